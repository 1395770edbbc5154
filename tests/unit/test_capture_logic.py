"""Pure capture logic: file-name times, box merging, face detection on an in-memory frame."""

from datetime import UTC, datetime

import numpy as np
import pytest

from capture.probe import recorded_start_from_name
from capture.redact import detect_faces, merge_boxes, pixelate
from capture.synthetic import face_box, render_frame

START = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "name",
    [
        "lobby-2_20261101T083000Z.mp4",
        "lobby-2_20261101T083000.mp4",
        "lobby-2_20261101-083000.mp4",
        "lobby-2_20261101_083000.avi",
        "lobby-2_2026-11-01T08-30-00Z.mp4",
        "/var/nvr/export/lobby-2_20261101T083000Z.mp4",
    ],
)
def test_recording_start_is_read_from_documented_file_name_patterns(name: str) -> None:
    assert recorded_start_from_name(name) == START


@pytest.mark.parametrize(
    "name", ["lobby-2.mp4", "lobby-2_20261341-083000.mp4", "cam_120261101T083000Z.mp4"]
)
def test_names_without_a_valid_time_give_none(name: str) -> None:
    assert recorded_start_from_name(name) is None


def test_overlapping_boxes_merge_into_their_bounding_box_and_separate_ones_stay() -> None:
    merged = merge_boxes([(0, 0, 10, 10), (5, 5, 10, 10), (100, 100, 5, 5)])
    assert merged == [(0, 0, 15, 15), (100, 100, 5, 5)]


def test_pixelation_flattens_detail_inside_the_box_only() -> None:
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 256, size=(100, 200, 3), dtype=np.uint8)
    outside = frame[:, 100:].copy()
    pixelate(frame, (0, 0, 64, 64))
    assert frame[:64, :64].std() < 10
    assert np.array_equal(frame[:, 100:], outside)


def test_the_synthetic_face_is_detected_where_it_was_painted() -> None:
    frame = render_frame(0, fps=10, size=(640, 360), start=START, faces=True)
    x, y, side, _ = face_box((640, 360))
    boxes = detect_faces(frame)
    assert len(boxes) >= 1
    assert any(abs(bx - x) < side // 4 and abs(by - y) < side // 4 for bx, by, _, _ in boxes)


def test_a_frame_without_a_face_has_no_detection() -> None:
    frame = render_frame(0, fps=10, size=(640, 360), start=START, faces=False)
    assert detect_faces(frame) == []


def test_synthetic_frames_are_deterministic() -> None:
    a = render_frame(7, fps=10, size=(320, 180), start=START, seed=3)
    b = render_frame(7, fps=10, size=(320, 180), start=START, seed=3)
    c = render_frame(7, fps=10, size=(320, 180), start=START, seed=4)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
