#!/usr/bin/env python3
"""Draws docs/img/scrape-cost.png from the scrape-cost table of docs/benchmarks.md.

Update the means below from `make bench`, then:
    python3 bench/chart.py > /tmp/scrape-cost.svg
    rsvg-convert /tmp/scrape-cost.svg -o docs/img/scrape-cost.png   # Debian: librsvg2-bin
"""
import math

KEYS = [1000, 10000, 100000]
SERIES = [  # name, mean ms per scrape at KEYS, colour, dash
    ("exporter, text", [1.66, 7.87, 81.5], "#1f77b4", ""),
    ("floor, text", [7.29, 47.49, 703.8], "#d62728", "6,4"),
    ("exporter, protobuf", [1.66, 7.74, 95.0], "#2ca02c", ""),
    ("floor, protobuf", [7.41, 47.12, 711.6], "#ff7f0e", "6,4"),
]
W, H, L, R, T, B = 760, 480, 80, 230, 40, 70


def x(k):
    return L + (math.log10(k) - 3) / 2 * (W - L - R)


def y(ms):  # 1 ms .. 1000 ms
    return H - B - math.log10(ms) / 3 * (H - T - B)


out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="DejaVu Sans, sans-serif" font-size="13">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{W/2-60}" y="24" font-size="16">Scrape cost against key count (log-log)</text>']
for ms in [1, 10, 100, 1000]:
    out.append(f'<line x1="{L}" y1="{y(ms)}" x2="{W-R}" y2="{y(ms)}" stroke="#ddd"/>')
    out.append(f'<text x="{L-10}" y="{y(ms)+4}" text-anchor="end">{ms} ms</text>')
for k in KEYS:
    out.append(f'<line x1="{x(k)}" y1="{T}" x2="{x(k)}" y2="{H-B}" stroke="#ddd"/>')
    out.append(f'<text x="{x(k)}" y="{H-B+20}" text-anchor="middle">{k:,}</text>')
out.append(f'<text x="{(L+W-R)/2}" y="{H-20}" text-anchor="middle">API keys (+500 BYOK keys)</text>')
out.append(f'<text x="20" y="{(T+H-B)/2}" transform="rotate(-90 20 {(T+H-B)/2})" text-anchor="middle">mean time per scrape</text>')
out.append(f'<rect x="{L}" y="{T}" width="{W-L-R}" height="{H-T-B}" fill="none" stroke="#333"/>')
for i, (name, vals, color, dash) in enumerate(SERIES):
    pts = " ".join(f"{x(k):.1f},{y(v):.1f}" for k, v in zip(KEYS, vals))
    da = f' stroke-dasharray="{dash}"' if dash else ''
    out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2.5"{da}/>')
    for k, v in zip(KEYS, vals):
        out.append(f'<circle cx="{x(k):.1f}" cy="{y(v):.1f}" r="3.5" fill="{color}"/>')
    ly = T + 20 + i * 24
    out.append(f'<line x1="{W-R+15}" y1="{ly}" x2="{W-R+45}" y2="{ly}" stroke="{color}" stroke-width="2.5"{da}/>')
    out.append(f'<text x="{W-R+52}" y="{ly+4}">{name}</text>')
out.append(f'<text x="{W-R+15}" y="{T+130}" font-size="11" fill="#555">floor: the same series in</text>')
out.append(f'<text x="{W-R+15}" y="{T+145}" font-size="11" fill="#555">plain GaugeVecs (client_golang)</text>')
out.append(f'<text x="{W-R+15}" y="{T+170}" font-size="11" fill="#555">2-core Xeon VM, go1.26.8</text>')
out.append('</svg>')
print("\n".join(out))
