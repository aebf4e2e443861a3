import pytest
from e2e_support import Processes


@pytest.fixture
def processes(tmp_path):
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    procs = Processes({"MIENSKIP_DATA_DIR": str(tmp_path / "data"), "MIENSKIP_LOG_LEVEL": "INFO",
                       "MIENSKIP_RATE_LIMIT": "1000 per second"}, log_dir)
    yield procs
    procs.stop_all()
