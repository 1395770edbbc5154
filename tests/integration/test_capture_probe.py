"""Probing real files: what is accepted, what is refused and why."""

from datetime import UTC, datetime
from pathlib import Path

import cv2
import pytest

from capture.errors import AudioPresent, EmptyVideo, FootageNotFound, NotDecodable, NotVideo
from capture.probe import probe
from capture.synthetic import face_patch, write_clip

START = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)


def test_a_synthetic_mp4_probes_to_its_frame_count_rate_and_size(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "lobby-2_20261101T083000Z.mp4", start=START)
    info = probe(clip)
    assert (info.frame_count, info.fps, info.width, info.height) == (40, 10.0, 640, 360)
    assert info.duration_s == 4.0
    assert (info.container, info.codec) == ("mov,mp4,m4a,3gp,3g2,mj2", "mpeg4")
    assert info.has_audio is False
    assert info.creation_time is None


def test_an_mjpg_avi_probes_and_decoding_every_frame_agrees(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "c.avi", start=START, seconds=2.5, fps=12, size=(320, 240))
    info = probe(clip, decode_all=True)
    assert (info.container, info.codec, info.frame_count) == ("avi", "mjpeg", 30)
    assert (info.fps, info.width, info.height, info.duration_s) == (12.0, 320, 240, 2.5)


def test_the_creation_time_tag_is_read_as_utc(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "c.mp4", start=START, embed_creation_time=True)
    assert probe(clip).creation_time == START


def test_a_clip_with_an_audio_stream_is_refused_citing_r12(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "talk.mp4", start=START, with_audio=True)
    with pytest.raises(AudioPresent) as refused:
        probe(clip)
    assert str(refused.value) == (
        f"{clip}: refused under R12 (policy V-B): no audio recording; 720 ILCS 5/14-2. The "
        "file carries an audio stream; turn audio off on the camera/recorder and export the "
        "segment again. Nothing was ingested."
    )
    assert probe(clip, refuse_audio=False).has_audio is True


def test_a_text_file_is_not_video(tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("not footage\n" * 50)
    with pytest.raises(NotVideo, match="notes.mp4: not a readable video container"):
        probe(text)


def test_a_png_is_not_video(tmp_path: Path) -> None:
    png = tmp_path / "still.png"
    assert cv2.imwrite(str(png), face_patch(120))
    with pytest.raises(NotVideo, match=r"still image or text \(png_pipe\)"):
        probe(png)


def test_a_missing_file_is_reported_as_not_found(tmp_path: Path) -> None:
    with pytest.raises(FootageNotFound, match="gone.mp4: no such file"):
        probe(tmp_path / "gone.mp4")


def test_an_mp4_cut_in_half_is_refused(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "c.mp4", start=START)
    data = clip.read_bytes()
    clip.write_bytes(data[: len(data) // 2])  # mp4v writer puts the index (moov) at the end
    with pytest.raises((NotVideo, NotDecodable)):
        probe(clip)


def test_a_truncated_avi_reports_only_the_frames_that_decode(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "c.avi", start=START)
    data = clip.read_bytes()
    clip.write_bytes(data[: len(data) // 2])
    assert probe(clip).frame_count == 20


def test_an_avi_whose_frames_are_cut_off_is_not_decodable(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "c.avi", start=START)
    clip.write_bytes(clip.read_bytes()[:6000])  # headers survive, no whole frame does
    with pytest.raises((NotDecodable, NotVideo)):
        probe(clip)


def test_a_video_without_frames_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (320, 240))
    writer.release()
    with pytest.raises(EmptyVideo, match="empty.avi: the video stream holds no frames"):
        probe(path)
