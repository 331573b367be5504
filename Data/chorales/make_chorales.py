#!/usr/bin/env python3
"""Make `chorales.npz`, the JSB-style Bach chorales of GateLab's `chorales` task, from the Bach
chorales bundled with music21.

Run once, from the repository's root, with numpy and music21 installed:

    python Data/chorales/make_chorales.py            # writes Data/chorales/chorales.npz

GateLab never runs this script: its output is committed, with its SHA-256, in
Data/chorales/README.md. The same music21 version gives the same bytes (the ZIP is written
with fixed timestamps and a fixed order).

What it makes (Boulanger-Lewandowski, Bengio & Vincent 2012's JSB Chorales, remade from
music21's corpus; every choice below is also in Data/chorales/README.md):

- Chorales: every MusicXML score (`.mxl`) of music21's `bach` corpus that has one part each
  named exactly "Soprano", "Alto", "Tenor" and "Bass"; those four parts are taken and any
  instrumental parts (trumpets, timpani, continuo) are dropped. Scores without those four names
  (the two five-voice chorales, two whose parts are named after their doubling instruments, the
  Well-Tempered Clavier prelude, the Humdrum `.krn` copies of chorales also present as `.mxl`)
  are skipped. A chorale whose piano roll equals an earlier one's (by file name) is a duplicate
  and is dropped, so that no chorale is in two splits.
- No transposition: each chorale stays in its own key, as in Boulanger-Lewandowski's JSB.
- Resolution: one frame per quarter note, k = 0, 1, 2, … quarter notes from the score's start,
  up to the end of its last note; frame k holds every pitch sounding at time k (a note with
  offset o and length d sounds at k when o ≤ k < o + d; ties and held notes sound on; grace
  notes, of length 0, never do; repeats are not expanded).
- 88-key piano roll, MIDI 21 (A0) … 108 (C8): stored compactly as the distinct MIDI numbers of
  each frame, ascending, padded with 0 (a row of `pitches`), since at most a few of 88 keys sound.
- Split: the versions of one chorale (music21's file stems with a suffix after "-", such as
  bwv18.5-lz and bwv18.5-w, or bwv248.42-4 and bwv248.42-s) form one group, named by the stem
  before the "-", so that no chorale is in two splits; the groups ordered by the SHA-256 of
  that name; walking them in that order, a group goes to train while fewer than
  n − n_valid − n_test chorales are in train, then to validation while fewer than
  n − n_test are in train and validation, then to test, with n_valid = round(n · 76/382) and
  n_test = round(n · 77/382) (JSB's 229/76/77 proportions).

Arrays (numpy `.npz`, stored, not compressed; GateLab reads float64 and float32):
- `pitches`: float32, [frames, W]: MIDI numbers sounding in each frame, 0-padded;
- `offsets`: float64, [n + 1]: chorale i is frames offsets[i] ..< offsets[i + 1];
- `split`: float64, [n]: 0 train, 1 validation, 2 test;
- `__metadata__`: uint8 UTF-8 JSON of strings: `names` (the chorales' file stems, space
  separated, in the arrays' order), `music21_version`, `numpy_version`, `resolution`,
  `transposition`, `split_rule`, `source`.
"""
import hashlib
import io
import json
import os
import sys
import zipfile
from fractions import Fraction

import numpy
import music21
from music21 import corpus

VOICES = ("Soprano", "Alto", "Tenor", "Bass")
LOWEST, HIGHEST = 21, 108
SPLIT_RULE = ("versions of a chorale (file stems equal before '-') grouped; groups ordered by SHA-256 of that "
              "name; a group goes to train while train has < n - n_valid - n_test chorales, then to validation "
              "while train and validation have < n - n_test, then to test; n_valid = round(n*76/382), "
              "n_test = round(n*77/382)")


def frames_of(score):
    """The chorale's frames: a list of sorted tuples of MIDI numbers, one per quarter note, or
    None when the score does not have the four voices."""
    parts = {p.partName: p for p in score.parts}
    if not all(v in parts and sum(1 for p in score.parts if p.partName == v) == 1 for v in VOICES):
        return None
    sounding = []   # (start, end, midi) in quarter notes, exact fractions
    for v in VOICES:
        for n in parts[v].flatten().notes:   # notes and chords, absolute offsets
            start = Fraction(n.offset)
            end = start + Fraction(n.duration.quarterLength)
            for p in n.pitches:
                sounding.append((start, end, p.midi))
    last = max(end for _, end, _ in sounding)
    count = -(-last.numerator // last.denominator)   # ceil: frames k with k < last
    frames = [set() for _ in range(count)]
    for start, end, midi in sounding:
        if not LOWEST <= midi <= HIGHEST:
            raise SystemExit(f"{score.metadata.title}: MIDI {midi} outside the piano's 21–108")
        k = -(-start.numerator // start.denominator)   # the first integer ≥ start
        while k < end:
            frames[k].add(midi)
            k += 1
    return [tuple(sorted(f)) for f in frames]


def npy(array):
    buffer = io.BytesIO()
    numpy.lib.format.write_array(buffer, numpy.ascontiguousarray(array), version=(1, 0), allow_pickle=False)
    return buffer.getvalue()


def write_npz(path, arrays):
    """A stored ZIP with fixed timestamps, entries in name order: the same arrays, the same bytes."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            z.writestr(info, npy(arrays[name]))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join("Data", "chorales", "chorales.npz")
    paths = sorted((p for p in corpus.getComposer("bach") if p.suffix == ".mxl"), key=lambda p: p.name)
    chorales, seen, skipped, duplicates = [], {}, [], []
    for p in paths:
        stem = p.name[: -len(p.suffix)]
        frames = frames_of(corpus.parse(str(p)))
        if frames is None:
            skipped.append(stem)
            continue
        if tuple(frames) in seen:
            duplicates.append(f"{stem}={seen[tuple(frames)]}")
            continue
        seen[tuple(frames)] = stem
        chorales.append((stem, frames))
        print(stem, len(frames), file=sys.stderr, flush=True)
    n = len(chorales)
    n_valid, n_test = round(n * 76 / 382), round(n * 77 / 382)
    groups = {}
    for i, (stem, _) in enumerate(chorales):
        groups.setdefault(stem.split("-")[0], []).append(i)
    split, placed = numpy.zeros(n), 0
    for name in sorted(groups, key=lambda g: hashlib.sha256(g.encode()).hexdigest()):
        which = 0 if placed < n - n_valid - n_test else (1 if placed < n - n_test else 2)
        for i in groups[name]:
            split[i] = which
        placed += len(groups[name])
    width = max(len(f) for _, frames in chorales for f in frames)
    rows = [f + (0,) * (width - len(f)) for _, frames in chorales for f in frames]
    offsets = numpy.cumsum([0] + [len(frames) for _, frames in chorales]).astype(numpy.float64)
    metadata = {
        "names": " ".join(stem for stem, _ in chorales),
        "music21_version": music21.__version__,
        "numpy_version": numpy.__version__,
        "source": "music21 corpus 'bach', .mxl scores with parts Soprano, Alto, Tenor, Bass (instrumental parts dropped); duplicates dropped",
        "resolution": "one frame per quarter note from the score's start: the pitches sounding at k = 0, 1, 2, ... quarter notes",
        "transposition": "none (each chorale in its own key, as JSB)",
        "split_rule": SPLIT_RULE,
    }
    write_npz(out, {
        "pitches": numpy.array(rows, dtype="<f4"),
        "offsets": offsets,
        "split": split,
        "__metadata__": numpy.frombuffer(json.dumps(metadata, sort_keys=True).encode(), dtype=numpy.uint8),
    })
    lengths = [len(frames) for _, frames in chorales]
    digest = hashlib.sha256(open(out, "rb").read()).hexdigest()
    print(json.dumps({
        "file": out, "sha256": digest, "bytes": os.path.getsize(out), "chorales": n,
        "train": int((split == 0).sum()), "validation": int((split == 1).sum()), "test": int((split == 2).sum()),
        "frames": int(offsets[-1]), "width": width, "shortest": min(lengths), "longest": max(lengths),
        "lowest_midi": int(min(m for r in rows for m in r if m)), "highest_midi": int(max(max(r) for r in rows)),
        "music21": music21.__version__, "numpy": numpy.__version__,
        "skipped": skipped, "duplicates": duplicates,
    }, indent=1))


if __name__ == "__main__":
    main()
