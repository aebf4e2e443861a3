"""An in-memory unit of work for intake's handlers (service_layer/unit_of_work.py's
protocols): no database, so the handlers' rules run in milliseconds."""

from __future__ import annotations

from dataclasses import replace

from mienskip_intake.domain.model import OPEN_STATUSES, Principal, Role, Status


class _Store:
    def __init__(self):
        self.kamers, self.volunteers, self.requests, self.assignments = {}, {}, {}, {}
        self.tokens, self.policy, self.keys = {}, {}, {}
        self.history, self.audit, self.outbox, self.inbox = [], [], [], set()
        self.imports = {}
        self.providers, self.referrals = {}, {}


class FakeKamers:
    def __init__(self, store: _Store):
        self.s = store

    def add(self, kamer):
        self.s.kamers[kamer.id] = kamer

    def get(self, kamer_id):
        return self.s.kamers.get(kamer_id)

    def auto_approve_categories(self, kamer_id):
        return sorted(self.s.policy.get(kamer_id, ()))

    def auto_approves(self, kamer_id, category):
        return category in self.s.policy.get(kamer_id, ())

    def auto_approving(self, pairs):
        return {(kamer_id, category) for kamer_id, category in pairs if self.auto_approves(kamer_id, category)}

    def set_auto_approve_categories(self, kamer_id, categories, set_by, at):
        self.s.policy[kamer_id] = set(categories)


class FakeTokens:
    def __init__(self, store: _Store):
        self.s = store

    def add(self, token_id, token_hash, role, *, kamer_id, region, label, at):
        self.s.tokens[token_hash] = {"id": token_id, "role": role, "kamer_id": kamer_id, "region": region,
                                     "revoked": False}

    def revoke(self, token_id, at):
        for token in self.s.tokens.values():
            if token["id"] == token_id and not token["revoked"]:
                token["revoked"] = True
                return True
        return False

    def principal_for(self, token_hash):
        token = self.s.tokens.get(token_hash)
        if token is None or token["revoked"]:
            return None
        return Principal(token["id"], Role(token["role"]), token["kamer_id"], token["region"])


class FakeVolunteers:
    def __init__(self, store: _Store):
        self.s = store

    def add(self, volunteer):
        self.s.volunteers[volunteer.id] = volunteer

    def get(self, volunteer_id, *, lock=False):
        return self.s.volunteers.get(volunteer_id)

    def get_all(self, volunteer_ids):
        return {i: self.s.volunteers[i] for i in volunteer_ids if i in self.s.volunteers}

    def is_erased(self, volunteer_id):
        volunteer = self.s.volunteers.get(volunteer_id)
        return volunteer is not None and volunteer.erased_at is not None

    def may_be_proposed(self, volunteer_id, region):
        volunteer = self.s.volunteers.get(volunteer_id)
        return volunteer is not None and volunteer.region == region and volunteer.erased_at is None

    def save_erasure(self, volunteer):
        self.s.volunteers[volunteer.id] = volunteer

    def save(self, volunteer):
        self.s.volunteers[volunteer.id] = volunteer

    def named_alike(self, kamer_id, name):
        key = " ".join(name.split()).lower()
        return [v for v in self.s.volunteers.values()
                if v.kamer_id == kamer_id and v.erased_at is None and v.name.strip().lower() == key]

    def page(self, principal, *, q, status, limit, after):
        seen = sorted((v for v in self.s.volunteers.values() if v.erased_at is None
                       and principal.may_see_kamer(v.kamer_id, v.region)), key=lambda v: (v.name, v.id))
        return [v for v in seen if (not q or q in v.name.lower()) and (after is None or (v.name, v.id) > after)][:limit + 1]

    def with_vog(self, principal):
        return sorted((v for v in self.s.volunteers.values() if v.erased_at is None and v.active
                       and v.vog_checked_on is not None and principal.may_see_kamer(v.kamer_id, v.region)),
                      key=lambda v: (v.vog_checked_on, v.id))

    def stopped_before(self, cutoff, batch):
        return [v for v in self.s.volunteers.values()
                if v.erased_at is None and v.stopped_at is not None and v.stopped_at < cutoff][:batch]


class FakeRequests:
    def __init__(self, store: _Store):
        self.s = store

    def add(self, request):
        self.s.requests[request.id] = request

    def get(self, request_id, *, lock=False):
        return self.s.requests.get(request_id)

    def get_all(self, request_ids, *, lock=False):
        return {i: self.s.requests[i] for i in request_ids if i in self.s.requests}

    def with_story(self, request):
        assignments = sorted((a for a in self.s.assignments.values() if a.request_id == request.id),
                             key=lambda a: (a.created_at, a.id))
        referrals = sorted((r for r in self.s.referrals.values() if r.request_id == request.id),
                           key=lambda r: (r.sent_at, r.id))
        return replace(request, assignments=tuple(assignments),
                       history=tuple(h for h in self.s.history if h.request_id == request.id),
                       referral=referrals[-1] if referrals else None)

    def existing(self, request_ids):
        return {rid for rid in request_ids if rid in self.s.requests}

    def status_of(self, request_id):
        request = self.s.requests.get(request_id)
        return None if request is None else request.status

    def recurrence_of(self, request_id, kamer_id):
        request = self.s.requests.get(request_id)
        return False if request is None or request.kamer_id != kamer_id else request.recurrence

    def settle(self, request, status, at, **values):
        if self.status_of(request.id) != request.status:
            return False
        self.set_status(request.id, status, at, **values)
        return True

    def set_status(self, request_id, status, at, **values):
        self.s.requests[request_id] = replace(self.s.requests[request_id], status=status.value, updated_at=at,
                                              **values)

    def move_all(self, request_ids, from_status, to_status, at):
        for request_id in request_ids:
            if self.status_of(request_id) == from_status.value:
                self.set_status(request_id, to_status, at)

    def claim_decision(self, request_id, decision):
        request = self.s.requests[request_id]
        if request.last_decision >= decision:
            return False
        self.s.requests[request_id] = replace(request, last_decision=decision)
        return True

    def apply_decisions(self, status, decisions, at):
        for request_id, decision in decisions.items():
            self.s.requests[request_id] = replace(self.s.requests[request_id], status=status.value, updated_at=at,
                                                  last_decision=decision)

    def save_erasure(self, request):
        self.s.requests[request.id] = request
        self.s.history = [replace(h, note=None) if h.request_id == request.id else h for h in self.s.history]

    def due_for_retention(self, cutoff, closed, batch):
        closed = {s.value for s in closed}
        return [r for r in self.s.requests.values() if r.erased_at is None and (
            (r.status in closed and r.updated_at < cutoff) or r.window_end < cutoff)][:batch]

    def open_of_kamer(self, kamer_id):
        return [r for r in self.s.requests.values()
                if r.kamer_id == kamer_id and r.erased_at is None and Status(r.status) in OPEN_STATUSES]

    def add_assignment(self, assignment):
        self.s.assignments[assignment.id] = assignment

    def add_assignments(self, assignments):
        for assignment in assignments:
            self.add_assignment(assignment)

    def assignment(self, assignment_id):
        return self.s.assignments.get(assignment_id)

    def set_assignment_status(self, assignment_id, status, at):
        self.s.assignments[assignment_id] = replace(self.s.assignments[assignment_id], status=status, updated_at=at)

    def set_every_assignment_status(self, request_id, status, at):
        for a in [a for a in self.s.assignments.values() if a.request_id == request_id]:
            self.set_assignment_status(a.id, status, at)

    def assignments_of_volunteer(self, volunteer_id, statuses):
        return [(a.id, a.request_id) for a in sorted(self.s.assignments.values(), key=lambda a: (a.created_at, a.id))
                if a.volunteer_id == volunteer_id and a.status in set(statuses)]

    def newest_assignment_id(self, request_id):
        mine = [a for a in self.s.assignments.values() if a.request_id == request_id]
        return max(mine, key=lambda a: (a.created_at, a.id)).id if mine else None

    def record(self, entry):
        self.s.history.append(entry)

    def record_all(self, entries):
        self.s.history.extend(entries)


class FakeAudit:
    def __init__(self, store: _Store):
        self.s = store

    def record(self, principal, action, subject_kind, subject_id, at):
        self.s.audit.append((principal.token_id, action, subject_kind, subject_id))


class FakeIdempotency:
    def __init__(self, store: _Store):
        self.s = store

    def answer_for(self, kamer_id, key):
        return self.s.keys.get((kamer_id, key))

    def remember(self, kamer_id, key, body_hash, status_code, response, at):
        self.s.keys[(kamer_id, key)] = (body_hash, status_code, dict(response))


class FakeImports:
    """Uploaded sheets between preview and import (``adapters/import_repository.py``'s twin)."""

    def __init__(self, store: _Store):
        self.s = store

    def add(self, staged):
        self.s.imports[staged.id] = staged

    def get(self, import_id, *, kamer_id, uploaded_by, since):
        staged = self.s.imports.get(import_id)
        if staged is None or staged.kamer_id != kamer_id or staged.uploaded_by != uploaded_by or staged.created_at < since:
            return None
        return staged

    def set_mapping(self, import_id, mapping):
        if self.s.imports[import_id].status == "staged":
            self.s.imports[import_id] = replace(self.s.imports[import_id], mapping=tuple(mapping))

    def claim(self, import_id):
        staged = self.s.imports.get(import_id)
        if staged is None or staged.status != "staged":
            return False
        self.s.imports[import_id] = replace(staged, status="importing")
        return True

    def finish(self, import_id, result, at):
        self.s.imports[import_id] = replace(self.s.imports[import_id], status="imported", sheet=None,
                                            result=dict(result))

    def delete_before(self, cutoff):
        old = [i for i, staged in self.s.imports.items() if staged.created_at < cutoff]
        for import_id in old:
            del self.s.imports[import_id]
        return len(old)


class FakeVisits:
    """Visit records by assignment id (``domain.visits.Visit``)."""

    def __init__(self, store: _Store):
        self.s = store
        self.s.__dict__.setdefault("visits", {})

    def add(self, visit):
        self.s.visits[visit.assignment_id] = visit

    def get(self, assignment_id):
        return self.s.visits.get(assignment_id)

    def erase_texts(self, *, request_id=None, volunteer_id=None):
        from dataclasses import replace

        for key, visit in list(self.s.visits.items()):
            if visit.request_id == request_id or visit.volunteer_id == volunteer_id:
                self.s.visits[key] = replace(visit, note=None, reason=None)
class FakeProviders:
    def __init__(self, store: _Store):
        self.s = store

    def add(self, provider):
        self.s.providers[provider.id] = provider

    def get(self, provider_id):
        return self.s.providers.get(provider_id)

    def save(self, provider):
        self.s.providers[provider.id] = provider

    def visible_to(self, principal):
        from mienskip_intake.service_layer.providers import may_see

        kamer = self.s.kamers.get(principal.kamer_id)
        return sorted((p for p in self.s.providers.values() if may_see(principal, p, kamer.region if kamer else None)),
                      key=lambda p: (p.name, p.id))


class FakeReferrals:
    def __init__(self, store: _Store):
        self.s = store

    def add(self, referral):
        self.s.referrals[referral.id] = referral

    def get(self, referral_id, *, lock=False):
        return self.s.referrals.get(referral_id)

    def of_request(self, request_id):
        return sorted((r for r in self.s.referrals.values() if r.request_id == request_id),
                      key=lambda r: (r.sent_at, r.id))

    def current_of(self, request_id):
        found = self.of_request(request_id)
        return found[-1] if found else None

    def move(self, referral, was):
        if self.s.referrals[referral.id].status != was:
            return False
        self.s.referrals[referral.id] = referral
        return True

    def due_before(self, now, batch):
        return sorted((r for r in self.s.referrals.values() if r.status == "sent" and r.due_at <= now),
                      key=lambda r: (r.due_at, r.id))[:batch]

    def erase_for_request(self, request_id):
        for referral in self.of_request(request_id):
            self.s.referrals[referral.id] = referral.erased()


class FakeUnitOfWork:
    """One shared in-memory store; what a block did counts only once it commits."""

    def __init__(self):
        self.store = _Store()
        self.commits = 0

    def __enter__(self):
        import copy

        self._before = copy.deepcopy(self.store)
        self._committed = False
        self.kamers, self.tokens = FakeKamers(self.store), FakeTokens(self.store)
        self.volunteers, self.requests = FakeVolunteers(self.store), FakeRequests(self.store)
        self.audit, self.idempotency = FakeAudit(self.store), FakeIdempotency(self.store)
        self.imports = FakeImports(self.store)
        self.visits = FakeVisits(self.store)
        self.providers, self.referrals = FakeProviders(self.store), FakeReferrals(self.store)
        return self

    def __exit__(self, *exc_info):
        if not self._committed:  # roll back: put every collection back as it was
            self.store.__dict__.update(self._before.__dict__)

    def claim(self, envelope):
        if envelope.event_id in self.store.inbox:
            return False
        self.store.inbox.add(envelope.event_id)
        return True

    def claim_all(self, envelopes):
        return {e.event_id for e in envelopes if self.claim(e)}

    def publish(self, envelope):
        self.store.outbox.append(envelope)

    def publish_all(self, envelopes):
        self.store.outbox.extend(envelopes)

    def commit(self):
        self._committed = True
        self.commits += 1

    @property
    def events(self):
        return [e.event_type for e in self.store.outbox]
