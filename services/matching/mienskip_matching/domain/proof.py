"""Why a flow is optimal, and what every arc would cost more: cheapest residual paths to the sink.

A flow is optimal iff its residual network has no cycle of negative cost.
:meth:`.flow.Network.solve` first solves with every unmatched penalty divided by
:data:`.flow.PENALTY_SHRINK` and keeps that flow only with a certificate that it is
optimal with the real penalties too:

* If the flow matches every request, it is. A simple cycle passes the sink at most once;
  it can only leave the sink backwards along an arc that carries flow, and no unmatched
  arc carries flow, so it leaves by a capacity unit and enters by a unit or an unmatched
  arc. Raising the penalties raises such a cycle's cost or leaves it, so none turns
  negative.
* If it leaves requests unmatched, :func:`no_cheaper_match` checks the cycles through
  them: a negative cycle, with the real penalties, must leave the sink back along an
  unmatched request ``j``'s arc (cost ``-P_j``) and return by a path from ``j`` to the
  sink. The cheapest such path (:func:`cheapest_to_sink`, with the real costs) costs at
  least ``P_j`` for every ``j`` iff the flow is optimal.

The same distances give each arc's reduced cost (:func:`reduced_costs`): how far the
clash repair (:mod:`.repair`) may move a request for how much.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .flow import Network


def no_cheaper_match(network: Network, flows: np.ndarray, unmatched: np.ndarray) -> bool:
    """Whether no request left unmatched could be matched for less than its real penalty."""
    to_sink = cheapest_to_sink(network, flows)
    return to_sink is not None and bool((to_sink[unmatched] >= network.penalty[unmatched]).all())


def reduced_costs(network: Network) -> np.ndarray:
    """Per arc of a solved network, what using it (or, for an arc carrying flow, giving
    it up) would cost more than the optimal flow does: ``cost + d(head) - d(tail)``, with
    ``d`` the cheapest residual path to the sink. Zero on every arc some optimal flow could use."""
    to_sink = cheapest_to_sink(network, network.arc_flows)
    if to_sink is None:  # cannot happen after an optimal solve
        return np.zeros(len(network.arc_costs), dtype=np.int64)
    return network.arc_costs + to_sink[network.arc_heads] - to_sink[network.arc_tails]


def cheapest_to_sink(network: Network, flows: np.ndarray) -> np.ndarray | None:
    """Cheapest cost from each node to the sink in the residual network of ``flows``
    with the real costs (Bellman-Ford on arrays; paths end at the sink, so arcs out
    of it are left out), or None if a negative cycle avoids the sink."""
    t, h, c, sink = network.arc_tails, network.arc_heads, network.arc_costs, network.sink
    free = flows == 0
    u = np.concatenate((t[free], h[~free]))  # residual arcs u -> v of cost w
    v = np.concatenate((h[free], t[~free]))
    w = np.concatenate((c[free], -c[~free]))
    keep = u != sink
    u, v, w = u[keep], v[keep], w[keep]
    inf = np.iinfo(np.int64).max // 4
    to_sink = np.full(sink + 1, inf, dtype=np.int64)
    to_sink[sink] = 0
    for _ in range(sink + 1):
        reach = np.where(to_sink[v] < inf, w + to_sink[v], inf)
        better = reach < to_sink[u]
        if not better.any():
            return to_sink
        np.minimum.at(to_sink, u[better], reach[better])
    return None
