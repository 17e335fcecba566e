"""Connected components of a graph given as edge arrays: the smallest node id labels each one.

Shared by entity resolution (parties as components of accepted links, `resolve._components`)
and detection (components of the goods-carrying seeds, `detect.detect_groups`).
"""

from __future__ import annotations

import numpy as np


def connected_components(n: int, src: np.ndarray, dst: np.ndarray, *, with_rounds: bool = False):
    """Label every node 0..n-1 with the smallest node id in its connected component.

    Vectorised union-find (hook and compress, after Shiloach and Vishkin): each round every
    edge hooks the root of the larger label under the smaller one (`np.minimum.at` over all
    edges at once), then pointer jumping (`labels = labels[labels]`) flattens the trees. Labels
    only decrease, so it stops when a round changes nothing; on sparse graphs that takes a
    handful of rounds. The result does not depend on edge order.

    >>> connected_components(5, np.array([0, 3]), np.array([1, 4])).tolist()
    [0, 0, 2, 3, 3]

    `with_rounds`: return (labels, rounds) instead.
    """
    labels = np.arange(n, dtype=np.int64)
    rounds = 0
    if len(src) == 0:
        return (labels, rounds) if with_rounds else labels
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    while True:
        rounds += 1
        lu, lv = labels[src], labels[dst]
        low = np.minimum(lu, lv)
        hooked = labels.copy()
        np.minimum.at(hooked, lu, low)
        np.minimum.at(hooked, lv, low)
        while True:
            jumped = hooked[hooked]
            if np.array_equal(jumped, hooked):
                break
            hooked = jumped
        if np.array_equal(hooked, labels):
            return (labels, rounds) if with_rounds else labels
        labels = hooked
