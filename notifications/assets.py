"""Writes the web app's icons and the notification sound into static/ (no Pillow, no
CDN: PNG, ICO and WAV by hand). Run it again after changing the drawing:

    .venv/bin/python -m notifications.assets

The icon: a white speech bubble on the product's blue (--accent in app.css).
"""

import math
import struct
import wave
import zlib
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "static"
BLUE = (0x24, 0x59, 0xD6)
WHITE = (255, 255, 255)
SAMPLES = 3  # per pixel and axis: smooth edges


def _in_rounded_square(x: float, y: float, radius: float) -> bool:
    cx = min(max(x, radius), 1 - radius)
    cy = min(max(y, radius), 1 - radius)
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius**2


def _in_bubble(x: float, y: float, scale: float) -> bool:
    """A speech bubble centred in the unit square, `scale` of its size."""
    x, y = (x - 0.5) / scale + 0.5, (y - 0.5) / scale + 0.5
    if ((x - 0.5) / 0.36) ** 2 + ((y - 0.46) / 0.28) ** 2 <= 1:
        return True
    # The tail: a triangle below the bubble's left side.
    ax, ay, bx, by, cx, cy = 0.3, 0.62, 0.46, 0.68, 0.24, 0.84
    d1 = (x - bx) * (ay - by) - (ax - bx) * (y - by)
    d2 = (x - cx) * (by - cy) - (bx - cx) * (y - cy)
    d3 = (x - ax) * (cy - ay) - (cx - ax) * (y - ay)
    negative, positive = d1 < 0 or d2 < 0 or d3 < 0, d1 > 0 or d2 > 0 or d3 > 0
    return not (negative and positive)


def _pixel(px: int, py: int, size: int, maskable: bool) -> tuple[int, int, int, int]:
    blue = white = 0
    for sy in range(SAMPLES):
        for sx in range(SAMPLES):
            x = (px + (sx + 0.5) / SAMPLES) / size
            y = (py + (sy + 0.5) / SAMPLES) / size
            if maskable or _in_rounded_square(x, y, 0.22):
                if _in_bubble(x, y, 0.62 if maskable else 0.78):
                    white += 1
                else:
                    blue += 1
    total = SAMPLES * SAMPLES
    alpha = (blue + white) / total
    if not alpha:
        return (0, 0, 0, 0)
    share = white / (blue + white)
    rgb = [round(b + (w - b) * share) for b, w in zip(BLUE, WHITE, strict=True)]
    return (*rgb, round(alpha * 255))


def png(size: int, *, maskable: bool = False) -> bytes:
    rows = b"".join(
        b"\x00" + b"".join(bytes(_pixel(x, y, size, maskable)) for x in range(size))
        for y in range(size)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def ico(images: dict[int, bytes]) -> bytes:
    """An .ico holding PNG images (every browser reads those)."""
    head = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    entries, data = b"", b""
    for size, image in images.items():
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(image),
                               offset + len(data))  # fmt: skip
        data += image
    return head + entries + data


SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">
<rect width="100" height="100" rx="22" fill="#2459d6"/>
<g transform="translate(50 50) scale(0.78) translate(-50 -50)" fill="#fff">
<ellipse cx="50" cy="46" rx="36" ry="28"/><path d="M30 62 L46 68 L24 84 Z"/>
</g>
</svg>
"""


def chime(rate: int = 22050) -> bytes:
    """A soft two-note chime, 0.35 s, 16-bit mono."""
    frames = []
    for note, start, length in ((880.0, 0.0, 0.18), (1318.5, 0.12, 0.23)):
        for i in range(int(length * rate)):
            t = i / rate
            envelope = min(1.0, t / 0.01) * math.exp(-t * 14)
            frames.append(
                (int((start + t) * rate), 0.35 * envelope * math.sin(2 * math.pi * note * t))
            )
    samples = [0.0] * (int(0.36 * rate) + 1)
    for index, value in frames:
        samples[index] += value
    return b"".join(struct.pack("<h", int(max(-1, min(1, s)) * 32767)) for s in samples)


def main() -> None:
    icons, sounds = STATIC / "icons", STATIC / "sounds"
    icons.mkdir(exist_ok=True)
    sounds.mkdir(exist_ok=True)
    (icons / "icon.svg").write_text(SVG)
    for size in (192, 512):
        (icons / f"icon-{size}.png").write_bytes(png(size))
    (icons / "icon-maskable-512.png").write_bytes(png(512, maskable=True))
    (icons / "apple-touch-icon.png").write_bytes(png(180, maskable=True))
    (icons / "favicon.ico").write_bytes(ico({16: png(16), 32: png(32), 48: png(48)}))
    with wave.open(str(sounds / "notify.wav"), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(22050)
        out.writeframes(chime())


if __name__ == "__main__":
    main()
