"""Draw the home-screen icons in src/circlebook/web/static (needs Pillow: pip install pillow).

The icons are committed; run this only to change them: `python tools/draw_icons.py`.
A circle of people (dots on a ring) in the pages' accent colour. The maskable icon
keeps its drawing inside the central 80% circle that every launcher's mask leaves
whole (the W3C "safe zone"), on a background that fills the whole square.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw

STATIC = Path(__file__).resolve().parent.parent / "src" / "circlebook" / "web" / "static"
ACCENT = (31, 111, 92, 255)  # --accent in circlebook.css, also the manifest's theme_color
WHITE = (255, 255, 255, 255)
SUPERSAMPLE = 4  # draw large, then shrink: smooth edges without an anti-aliasing pass


def draw(size: int, *, drawing_share: float, rounded: bool) -> Image.Image:
    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if rounded:
        pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 5, fill=ACCENT)
    else:
        pen.rectangle((0, 0, big - 1, big - 1), fill=ACCENT)
    centre = big / 2
    ring = big * drawing_share * 0.30  # radius of the ring the people stand on
    width = max(1, round(big * drawing_share * 0.045))
    pen.ellipse(
        (centre - ring, centre - ring, centre + ring, centre + ring), outline=WHITE, width=width
    )
    dot = big * drawing_share * 0.085
    for i in range(6):
        angle = -math.pi / 2 + i * math.pi / 3
        x, y = centre + ring * math.cos(angle), centre + ring * math.sin(angle)
        pen.ellipse((x - dot, y - dot, x + dot, y + dot), fill=WHITE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    icons = {
        "icon-192.png": draw(192, drawing_share=1.0, rounded=True),
        "icon-512.png": draw(512, drawing_share=1.0, rounded=True),
        # Safe zone: a circle of 40% of the size around the centre; the ring and its
        # dots reach 0.30 + 0.085 of the drawing, so the drawing is shrunk to fit.
        "icon-maskable-512.png": draw(512, drawing_share=0.8, rounded=False),
        # iOS rounds the corners itself and shows transparency as black.
        "apple-touch-icon.png": draw(180, drawing_share=1.0, rounded=False),
    }
    for name, image in icons.items():
        image.save(STATIC / name, optimize=True)
        print(STATIC / name, image.size)


if __name__ == "__main__":
    main()
