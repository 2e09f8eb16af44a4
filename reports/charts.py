"""Bar charts drawn on the server as inline SVG (no script, no CDN, nothing the CSP
refuses): geometry only; the template draws it with a title per bar, and the page shows
the same figures as a table beside it."""

from dataclasses import dataclass

WIDTH = 640
HEIGHT = 180
LABEL_SPACE = 20  # under the bars, for the axis labels
MARGIN = 16  # either side, so the first and last labels are not cut


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # the axis label ("" to leave a tick unlabelled)
    title: str  # what a hover or a screen reader says: "09:00: 42"
    value: int

    @property
    def center(self) -> float:
        return round(self.x + self.width / 2, 1)


@dataclass(frozen=True)
class Chart:
    title: str
    bars: list[Bar]
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def baseline(self) -> int:
        return self.height - LABEL_SPACE

    @property
    def view_box(self) -> str:
        return f"-{MARGIN} 0 {self.width + 2 * MARGIN} {self.height}"  # room for end labels

    @property
    def is_empty(self) -> bool:
        return not any(bar.value for bar in self.bars)


def bar_chart(
    title: str, values: list[tuple[str, int]], *, label_every: int = 1, width: int = WIDTH
) -> Chart:
    """One bar per (label, value), scaled to the largest value."""
    top = max((value for _, value in values), default=0) or 1
    slot = width / max(len(values), 1)
    drawable = HEIGHT - LABEL_SPACE - 4
    bars = []
    for index, (label, value) in enumerate(values):
        height = round(drawable * value / top, 1)
        bars.append(
            Bar(
                x=round(index * slot + slot * 0.15, 1),
                y=round(HEIGHT - LABEL_SPACE - height, 1),
                width=round(slot * 0.7, 1),
                height=height,
                label=label if index % label_every == 0 else "",
                title=f"{label}: {value}",
                value=value,
            )
        )
    return Chart(title=title, bars=bars, width=width)
