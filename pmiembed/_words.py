"""Kernel of the ``words`` tokenisation: the ASCII fast path of
:func:`pmiembed.corpus.split_words` (same tokens as its Unicode regex on ASCII text)."""

from __future__ import annotations

import numpy as np

from ._jit import kernel


@kernel(nogil=True)
def ascii_words(buf, starts, ends, owner):
    """Split the ASCII bytes ``buf`` into words: maximal runs of letters and digits, joined
    by a single ``'`` or ``-`` that has a letter or digit on both sides.  Bytes
    ``\\n`` separate items; ``owner[k]`` is the item of word ``k`` (``starts``/``ends``:
    its byte span).  Returns the number of words."""
    n = buf.shape[0]
    k = 0
    item = 0
    i = 0
    while i < n:
        c = buf[i]
        if c == 10:
            item += 1
            i += 1
            continue
        if (48 <= c <= 57) or (65 <= c <= 90) or (97 <= c <= 122):
            j = i + 1
            while True:
                while j < n and ((48 <= buf[j] <= 57) or (65 <= buf[j] <= 90) or (97 <= buf[j] <= 122)):
                    j += 1
                if j + 1 < n and (buf[j] == 39 or buf[j] == 45 or buf[j] == 95):
                    d = buf[j + 1]
                    if (48 <= d <= 57) or (65 <= d <= 90) or (97 <= d <= 122):
                        j += 1
                        continue
                break
            starts[k] = i
            ends[k] = j
            owner[k] = item
            k += 1
            i = j
        else:
            i += 1
    return k


def ascii_split(texts: list[str]) -> list[list[str]]:
    """``words`` tokens of each ASCII string in ``texts`` (no newlines in them)."""
    data = "\n".join(texts).encode("ascii")
    buf = np.frombuffer(data, dtype=np.uint8)
    cap = len(buf) // 2 + 1
    starts = np.empty(cap, np.int64)
    ends = np.empty(cap, np.int64)
    owner = np.empty(cap, np.int64)
    k = ascii_words(buf, starts, ends, owner)
    out: list[list[str]] = [[] for _ in texts]
    for s, e, o in zip(starts[:k].tolist(), ends[:k].tolist(), owner[:k].tolist()):
        out[o].append(data[s:e].decode("ascii"))
    return out
