"""Episode videos: frames of an env's global view, written to mp4 and GIF as they are rendered.

Frames stream to disk (a 1000-step episode never sits in memory) under temporary names
that are renamed into place only when the video is complete: an interrupted run leaves
the previous video untouched. Every frame says what it shows: a panel right of the map
(``InfoPanel``) holds the step, each kinship group's hearts so far in the group's colour,
and a legend of the symbols and objects. The mp4 is H.264 where OpenCV's FFmpeg has an encoder for
it, otherwise VP9 in the same mp4 container (the opencv-python wheels ship no H.264
encoder; VP9 plays in every current browser); ``VideoFiles.codec`` says which. The GIF
(half size, 64 colours, written by Pillow at the end) is for a README or a quick look.
"""
from __future__ import annotations

from contextlib import ExitStack

import cv2
import numpy as np

from metta.runtime.files import atomic_path
from metta.viz.render import BlockRenderer, group_color, kinship_groups, object_styles

# OpenCV fourcc tags in order of preference: H.264, then VP9 (both in an mp4 container)
MP4_CODECS = (("avc1", "h264"), ("vp09", "vp9"))


class InfoPanel:
    """The panel drawn right of each frame: step, hearts per kinship group, legend. ``WIDTH`` pixels wide."""

    WIDTH = 200
    ROW = 15
    FONT, SCALE = cv2.FONT_HERSHEY_SIMPLEX, 0.4
    SYMBOLS = ("white ring: shield", "ice block: frozen", "bar: energy / max", "triangle: facing", "dim: cooling down")

    def __init__(self, styles: dict[str, dict], avatar: str, label: str = "hearts"):
        self.objects = [(name, st["color"]) for name, st in styles.items() if name != avatar]
        self.label = label  # the tallied counter's name

    def _text(self, img, text: str, x: int, row: int, color=(220, 220, 220)) -> None:
        cv2.putText(img, text, (x, row * self.ROW + 11), self.FONT, self.SCALE, color, 1, cv2.LINE_AA)

    def _swatch(self, img, x: int, row: int, rgb) -> None:
        c = tuple(int(round(255 * min(1.0, v))) for v in rgb)
        img[row * self.ROW + 2:row * self.ROW + 12, x:x + 10] = c

    def rows(self, groups: int) -> int:
        return 3 + -(-groups // 2) + 2 + len(self.SYMBOLS) + len(self.objects)

    def draw(self, height: int, step: int, max_steps: int, hearts: dict[int, int] | None) -> np.ndarray:
        """The panel (``height`` px or more, as its rows need) for ``step`` and ``hearts`` {group: hearts so far}."""
        groups = sorted(hearts) if hearts else []
        img = np.full((max(height, self.rows(len(groups)) * self.ROW + 6), self.WIDTH, 3), 24, dtype=np.uint8)
        self._text(img, f"step {step} / {max_steps}", 6, 0, (255, 255, 255))
        row = 2
        if hearts is not None:
            self._text(img, f"{self.label}: {sum(hearts.values())} in all, by group", 6, 1)
            for k, g in enumerate(groups):  # two columns
                x, r = 6 + (k % 2) * 96, row + k // 2
                self._swatch(img, x, r, group_color(g))
                self._text(img, f"{g}: {hearts[g]}", x + 14, r)
            row += -(-len(groups) // 2) + 1
        for text in self.SYMBOLS:
            self._text(img, text, 6, row)
            row += 1
        for name, color in self.objects:
            self._swatch(img, 6, row, color)
            self._text(img, name, 20, row)
            row += 1
        return img


class EnvCamera:
    """Pictures of a ``MettaEnv``'s current state, agents coloured by kinship group (see BlockRenderer), with the
    step, each group's hearts so far (the game's headline counter, when it names one) and a legend beside the map
    (``InfoPanel``; ``panel=False`` for the map alone)."""

    def __init__(self, env, tile_size: int = 16, panel: bool = True):
        self.env = env
        self.renderer = BlockRenderer(env.game, env.num_agents_total, tile_size)
        self.panel = InfoPanel(object_styles(env.game), env.game.avatar, env.facts.headline or "") if panel else None
        self._kinship: np.ndarray | None = None  # the env's kinship matrix the groups were read from
        self._groups: np.ndarray | None = None  # each agent's kinship group, read by frame()

    def hearts_by_group(self, state: dict) -> dict[int, int] | None:
        """Hearts so far per kinship group, from ``state``'s per-player headline counter (``hearts`` in the Metta
        game: its ``Metta.metrics.headline``); None when the game names none."""
        headline = self.env.facts.headline
        hearts = state["GlobalVariables"].get(headline) if headline is not None else None
        if hearts is None:
            return None
        groups = self._groups
        assert groups is not None, "frame() reads the groups before it asks"
        out = {int(g): 0 for g in groups}
        for i, g in enumerate(groups):
            out[int(g)] += int(hearts[i + 1])
        return out

    def frame(self) -> np.ndarray:
        if self._kinship is not self.env.kinship:  # a new episode draws a new kinship matrix
            self._kinship = self.env.kinship
            self._groups = kinship_groups(self.env.kinship, self.env.society.kin_threshold)
        groups = self._groups
        assert groups is not None  # an env's kinship is never None, so the first frame read it
        state = self.env.engine.state()
        image = self.renderer.render(state, groups)
        if self.panel is None:
            return image
        side = self.panel.draw(image.shape[0], self.env.steps, self.env.max_steps, self.hearts_by_group(state))
        if side.shape[0] > image.shape[0]:  # a small map: black below it
            image = np.vstack([image, np.zeros((side.shape[0] - image.shape[0],) + image.shape[1:], np.uint8)])
        return np.hstack([image, side])

    def close(self) -> None:
        self.renderer.close()


def _open_mp4(path: str, fps: float, size: tuple[int, int]) -> tuple[cv2.VideoWriter, str]:
    level = cv2.getLogLevel()
    cv2.setLogLevel(0)  # a missing encoder is expected here, not an error to print
    try:
        for fourcc, name in MP4_CODECS:
            writer = cv2.VideoWriter(path, cv2.VideoWriter.fourcc(*fourcc), float(fps), size)
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
        self._mp4: cv2.VideoWriter | None = None
        self._gif: list | None = None  # the GIF's frames, as PIL images
        self._files = ExitStack()
        self._mp4_tmp: str | None = None  # where the files are written until they are renamed into place
        self._gif_tmp: str | None = None

    def __enter__(self) -> "VideoFiles":
        self._mp4_tmp = self._files.enter_context(atomic_path(self.mp4_path))
        if self.gif_path is not None:
            self._gif_tmp = self._files.enter_context(atomic_path(self.gif_path))
        return self

    def add(self, frame: np.ndarray) -> None:
        h, w = frame.shape[:2]
        if self._mp4 is None or self.size is None:
            assert self._mp4_tmp is not None, "VideoFiles.add within its with block"
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
