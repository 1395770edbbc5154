"""Redaction of real clips: regions and faces are blurred, case and time burned in."""

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest

from capture.errors import FrameOutOfRange
from capture.probe import probe
from capture.redact import (
    caption_layout,
    detect_faces,
    extract_frame,
    frame_time,
    redact_clip,
)
from capture.synthetic import face_box, write_clip
from ledger import sitetime

START = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
CLOCK = (0, 320, 330, 40)  # where the synthetic clip burns its recorder clock (640x360)


def _frame(path: Path, index: int) -> np.ndarray:
    cap = cv2.VideoCapture(str(path))
    cap.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, frame = cap.read()
    cap.release()
    assert ok
    return frame


def _crop(frame: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x, y, w, h = box
    return cv2.cvtColor(frame[y : y + h, x : x + w], cv2.COLOR_BGR2GRAY).astype(float)


def test_an_operator_region_is_blurred_on_every_frame(tmp_path: Path) -> None:
    src = write_clip(tmp_path / "c.mp4", start=START, seconds=2)
    dst = tmp_path / "r.mp4"
    result = redact_clip(
        src, dst, blur_faces=False, regions=[CLOCK], caption="CASE 2026-0042", start=START
    )
    assert (result.frames, result.fps, result.faces_blurred) == (20, 10.0, 0)
    assert result.regions == (CLOCK,)
    for index in (0, 19):
        before = cv2.Laplacian(_crop(_frame(src, index), CLOCK), cv2.CV_64F).var()
        after = cv2.Laplacian(_crop(_frame(dst, index), CLOCK), cv2.CV_64F).var()
        assert after < before / 10
    info = probe(dst)
    assert (info.frame_count, info.width, info.height) == (20, 640, 360)


def test_faces_in_a_faces_clip_are_found_and_blurred(tmp_path: Path) -> None:
    src = write_clip(tmp_path / "c.mp4", start=START, seconds=2, faces=True)
    dst = tmp_path / "r.mp4"
    assert len(detect_faces(_frame(src, 0))) >= 1
    result = redact_clip(src, dst, blur_faces=True, regions=[], caption="C-1", start=START)
    assert result.frames_with_faces == 20
    assert result.faces_blurred >= 20
    for index in (0, 10, 19):
        assert detect_faces(_frame(dst, index)) == []
    face = face_box((640, 360))
    # the pixelated face has lost its features: it differs a lot from the painted one
    assert np.abs(_crop(_frame(dst, 10), face) - _crop(_frame(src, 10), face)).mean() > 10


def test_the_result_records_hashes_and_parameters_for_chain_of_custody(tmp_path: Path) -> None:
    src = write_clip(tmp_path / "c.mp4", start=START, seconds=1, faces=True)
    dst = tmp_path / "r.mp4"
    result = redact_clip(src, dst, blur_faces=True, regions=[(1, 2, 3, 4)], caption="C", start=None)
    record = result.to_record()
    assert record["source_sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert record["output_sha256"] == hashlib.sha256(dst.read_bytes()).hexdigest()
    assert record["detection"]["cascades"] == [
        "haarcascade_frontalface_default.xml",
        "haarcascade_profileface.xml",
        "haarcascade_profileface.xml (mirrored)",
    ]
    assert (record["detection"]["scale_factor"], record["detection"]["min_neighbors"]) == (1.2, 4)
    assert (record["regions"], record["start"], record["method"]) == (
        [[1, 2, 3, 4]],
        None,
        "pixelate",
    )


def test_caption_and_timestamp_are_burned_in(tmp_path: Path) -> None:
    src = write_clip(tmp_path / "c.mp4", start=START, seconds=1)
    dst = tmp_path / "r.mp4"
    redact_clip(src, dst, blur_faces=False, regions=[], caption="CASE 2026-0042", start=START)
    top_band = (0, 0, 640, 30)
    changed = np.abs(_crop(_frame(dst, 3), top_band) - _crop(_frame(src, 3), top_band))
    assert (changed > 60).mean() > 0.2  # black boxes with white text at both ends


def test_a_frame_is_extracted_as_png(tmp_path: Path) -> None:
    src = write_clip(tmp_path / "c.mp4", start=START, seconds=2)
    png = extract_frame(src, 1.0, tmp_path / "f.png")
    still = cv2.imread(str(png))
    assert still.shape == (360, 640, 3)
    assert np.abs(still.astype(int) - _frame(src, 10).astype(int)).max() == 0


def test_a_time_past_the_end_is_refused(tmp_path: Path) -> None:
    src = write_clip(tmp_path / "c.mp4", start=START, seconds=2)
    with pytest.raises(FrameOutOfRange, match=r"c.mp4: 5 s is outside the clip \(0 to 2 s\)"):
        extract_frame(src, 5.0, tmp_path / "f.png")


@pytest.mark.parametrize(
    ("width", "height", "together"),
    [(320, 240, False), (160, 120, False), (640, 360, True), (1920, 1080, True)],
)
def test_the_caption_fits_the_frame_and_never_overlaps_the_time(
    width: int, height: int, together: bool
) -> None:
    caption, stamp = "R-2026-0005 MPD-26-1187", "2026-11-01 02:30:00.200 CST"
    first, second = caption_layout(width, height, caption, stamp)
    for label in (first, second):
        x, y, w, h = label.box
        assert x >= 0 and x + w <= width and y >= 0 and y + h <= height, label
    (ax, ay, aw, ah), (bx, by, bw, bh) = first.box, second.box
    apart = ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay
    assert apart, (first, second)
    assert (first.box[1] == second.box[1]) is together  # one band, or caption top / time bottom
    text_height = cv2.getTextSize(stamp, cv2.FONT_HERSHEY_SIMPLEX, first.scale, first.thickness)
    assert text_height[0][1] >= min(9, height // 20)  # readable, not shrunk to nothing


def test_the_burned_in_time_is_site_time_with_its_label(tmp_path: Path) -> None:
    src = write_clip(tmp_path / "c.mp4", start=START, seconds=1, size=(320, 240))
    chicago = ZoneInfo("America/Chicago")
    result = redact_clip(
        src, tmp_path / "r.mp4", blur_faces=False, regions=[], caption="R-2026-0005",
        start=START, zone=chicago,
    )  # fmt: skip
    assert result.to_record()["caption_zone"] == "America/Chicago"
    assert frame_time(START, 5, 10.0, chicago) == sitetime.show_stamp(
        START + timedelta(seconds=0.5), chicago
    )
    assert frame_time(START, 5, 10.0, chicago).endswith(
        ".500 " + START.astimezone(chicago).tzname()
    )
