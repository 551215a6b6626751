"""Draws media/icon.png (128x128): a white lambda over a function-graph curve on a red tile."""

import math
import struct
import zlib
from pathlib import Path

SIZE = 128
SCALE = 4  # supersampling for smooth edges


def distance_to_segment(px, py, ax, ay, bx, by):
    """Distance from point P to segment AB."""
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def coverage(x, y):
    """(tile, glyph, curve) coverage of one sample point."""
    radius, inset = 26, 6
    cx = min(max(x, inset + radius), SIZE - inset - radius)
    cy = min(max(y, inset + radius), SIZE - inset - radius)
    tile = math.hypot(x - cx, y - cy) <= radius
    lam = min(
        distance_to_segment(x, y, 40, 30, 86, 100),
        distance_to_segment(x, y, 63, 62, 40, 100),
        distance_to_segment(x, y, 30, 30, 42, 30),
    ) <= 7
    wave = abs(y - (92 - 10 * math.sin((x - 20) / 14.0))) <= 2.2 and 18 <= x <= 110
    return tile, lam, wave


def pixel(px, py):
    """RGBA of one output pixel, averaged over SCALE x SCALE samples."""
    acc = [0.0, 0.0, 0.0, 0.0]
    for sy in range(SCALE):
        for sx in range(SCALE):
            x = px + (sx + 0.5) / SCALE
            y = py + (sy + 0.5) / SCALE
            tile, lam, wave = coverage(x, y)
            if not tile:
                continue
            shade = 1.0 - 0.25 * (y / SIZE)
            color = (199 * shade, 0, 11 * shade)
            if wave:
                color = (255, 190, 120)
            if lam:
                color = (255, 255, 255)
            acc[0] += color[0]
            acc[1] += color[1]
            acc[2] += color[2]
            acc[3] += 255
    n = SCALE * SCALE
    alpha = acc[3] / n
    if alpha == 0:
        return (0, 0, 0, 0)
    scale = 255 / acc[3]
    return (round(acc[0] * scale), round(acc[1] * scale), round(acc[2] * scale), round(alpha))


def main():
    """Write the icon next to the extension's manifest."""
    rows = b"".join(b"\x00" + bytes(c for px in range(SIZE) for c in pixel(px, py)) for py in range(SIZE))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
    out = Path(__file__).resolve().parent.parent / "media" / "icon.png"
    out.write_bytes(png)


if __name__ == "__main__":
    main()
