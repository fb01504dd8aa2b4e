"""Episode videos: frames of an env's global view, written to mp4 and GIF as they are rendered.

Frames stream to disk (a 1000-step episode never sits in memory) under temporary names
that are renamed into place only when the video is complete: an interrupted run leaves
the previous video untouched. The mp4 is H.264 where OpenCV's FFmpeg has an encoder for
it, otherwise VP9 in the same mp4 container (the opencv-python wheels ship no H.264
encoder; VP9 plays in every current browser); ``VideoFiles.codec`` says which. The GIF
(half size, 64 colours, written by Pillow at the end) is for a README or a quick look.
"""
from __future__ import annotations

from contextlib import ExitStack

import cv2
import numpy as np

from metta.files import atomic_path
from metta.griddly_ext.render import BlockRenderer, kinship_groups

# OpenCV fourcc tags in order of preference: H.264, then VP9 (both in an mp4 container)
MP4_CODECS = (("avc1", "h264"), ("vp09", "vp9"))


class EnvCamera:
    """Pictures of a ``MettaEnv``'s current state, agents coloured by kinship group (see BlockRenderer)."""

    def __init__(self, env, tile_size: int = 16):
        self.env = env
        self.renderer = BlockRenderer(env.game, env.num_agents_total, tile_size)
        self._kinship = None
        self._groups = None

    def frame(self) -> np.ndarray:
        if self._kinship is not self.env.kinship:  # a new episode draws a new kinship matrix
            self._kinship = self.env.kinship
            self._groups = kinship_groups(self.env.kinship, self.env.society.kin_threshold)
        return self.renderer.render(self.env.engine.state(), self._groups)

    def close(self) -> None:
        self.renderer.close()


def _open_mp4(path: str, fps: float, size: tuple[int, int]) -> tuple[cv2.VideoWriter, str]:
    level = cv2.getLogLevel()
    cv2.setLogLevel(0)  # a missing encoder is expected here, not an error to print
    try:
        for fourcc, name in MP4_CODECS:
            writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*fourcc), float(fps), size)
            if writer.isOpened():
                return writer, name
            writer.release()
    finally:
        cv2.setLogLevel(level)
    raise RuntimeError(f"OpenCV cannot write mp4 here: none of the codecs {[c for c, _ in MP4_CODECS]} is available")


class VideoFiles:
    """An mp4 and (optionally) a GIF of the same frames. Use as a context manager; ``add`` RGB frames.

    On a clean exit both files are renamed into place; on an exception the partial files are removed.
    """

    def __init__(self, mp4_path: str, gif_path: str | None, fps: float):
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps!r}")
        self.mp4_path, self.gif_path, self.fps = mp4_path, gif_path, float(fps)
        self.codec: str | None = None
        self.frames = 0
        self.size: tuple[int, int] | None = None  # (width, height) of the mp4
        self._mp4 = self._gif = None
        self._files = ExitStack()
        self._mp4_tmp = self._gif_tmp = None

    def __enter__(self) -> "VideoFiles":
        self._mp4_tmp = self._files.enter_context(atomic_path(self.mp4_path))
        if self.gif_path is not None:
            self._gif_tmp = self._files.enter_context(atomic_path(self.gif_path))
        return self

    def add(self, frame: np.ndarray) -> None:
        h, w = frame.shape[:2]
        if self._mp4 is None:
            self.size = (w - w % 2, h - h % 2)  # encoders of 4:2:0 video want even sizes
            self._mp4, self.codec = _open_mp4(self._mp4_tmp, self.fps, self.size)
            if self.gif_path is not None:
                self._gif = []  # palette frames (a tenth of RGB's memory), saved at the end
        self._mp4.write(np.ascontiguousarray(frame[:self.size[1], :self.size[0], ::-1]))  # OpenCV wants BGR
        if self._gif is not None:
            from PIL import Image

            small = cv2.resize(frame, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
            self._gif.append(Image.fromarray(small).quantize(colors=64, method=Image.Quantize.MEDIANCUT))
        self.frames += 1

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._mp4 is not None:
            self._mp4.release()
        if self._gif and exc_type is None:
            self._gif[0].save(self._gif_tmp, save_all=True, append_images=self._gif[1:],
                              duration=round(1000 / self.fps), loop=0)
        self._files.__exit__(exc_type, exc, tb)  # rename both into place, or remove both on an exception
