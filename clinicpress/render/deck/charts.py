"""Native charts: data from the YAML spec, styled from the theme, and their alt text."""

from __future__ import annotations

from pptx.chart.data import CategoryChartData
from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION, XL_LEGEND_POSITION
from pptx.enum.dml import MSO_THEME_COLOR
from pptx.util import Pt

from ...load import schema
from .. import pptx_adapter as ad
from ..templating import strip_citations
from .constants import SMALLEST_PT

ACCENTS = [
    MSO_THEME_COLOR.ACCENT_1,
    MSO_THEME_COLOR.ACCENT_2,
    MSO_THEME_COLOR.ACCENT_3,
    MSO_THEME_COLOR.ACCENT_4,
    MSO_THEME_COLOR.ACCENT_5,
    MSO_THEME_COLOR.ACCENT_6,
]


def chart_data(chart: schema.Chart):
    """Returns the python-pptx chart type and data for a chart spec."""
    types = {
        "bar": XL_CHART_TYPE.BAR_CLUSTERED,
        "column": XL_CHART_TYPE.COLUMN_CLUSTERED,
        "line": XL_CHART_TYPE.LINE_MARKERS,
        "pie": XL_CHART_TYPE.PIE,
    }
    data = CategoryChartData(number_format=chart.number_format)
    data.categories = chart.categories
    for s in chart.series:
        data.add_series(s.name, s.values)
    return types[chart.type], data


def style_chart(chart, spec: schema.Chart) -> None:
    """Sizes the chart's text for a room, colours it from the theme and labels every value."""
    chart.font.size = Pt(18)
    chart.font.color.theme_color = MSO_THEME_COLOR.TEXT_1
    chart.has_title = False
    plot = chart.plots[0]
    multi = len(spec.series) > 1 or spec.type == "pie"
    chart.has_legend = multi
    if multi:
        chart.legend.position = XL_LEGEND_POSITION.BOTTOM
        chart.legend.include_in_layout = False
        chart.legend.font.size = Pt(18)
    plot.has_data_labels = True
    labels = plot.data_labels
    labels.number_format = spec.number_format
    labels.number_format_is_linked = False
    labels.font.size = Pt(18)
    if spec.type == "pie":
        plot.vary_by_categories = True
        labels.position = XL_LABEL_POSITION.OUTSIDE_END
        for j, point in enumerate(plot.series[0].points):
            point.format.fill.solid()
            point.format.fill.fore_color.theme_color = ACCENTS[j % 6]
        return
    _style_series(plot, spec)
    _style_axes(chart, spec)


def _style_series(plot, spec: schema.Chart) -> None:
    """Bars and columns close together, lines thick with big markers; one accent per series."""
    labels = plot.data_labels
    if spec.type in ("bar", "column"):
        plot.gap_width = 60
        plot.overlap = 0
        labels.position = XL_LABEL_POSITION.OUTSIDE_END
    else:
        labels.position = XL_LABEL_POSITION.ABOVE
    for i, series in enumerate(plot.series):
        color = ACCENTS[i % 6]
        if spec.type == "line":
            series.format.line.color.theme_color = color
            series.format.line.width = Pt(3.5)
            series.smooth = False
            series.marker.size = 10
            series.marker.format.fill.solid()
            series.marker.format.fill.fore_color.theme_color = color
            series.marker.format.line.color.theme_color = color
        else:
            series.format.fill.solid()
            series.format.fill.fore_color.theme_color = color


def _style_axes(chart, spec: schema.Chart) -> None:
    """Light value gridlines, no axis line for values, and bar categories top to bottom."""
    value_axis, category_axis = chart.value_axis, chart.category_axis
    value_axis.has_major_gridlines = True
    value_axis.major_gridlines.format.line.color.theme_color = MSO_THEME_COLOR.BACKGROUND_2
    value_axis.major_gridlines.format.line.width = Pt(1)
    value_axis.tick_labels.number_format = spec.number_format
    value_axis.tick_labels.number_format_is_linked = False
    value_axis.tick_labels.font.size = Pt(SMALLEST_PT)
    value_axis.format.line.fill.background()
    category_axis.tick_labels.font.size = Pt(18)
    category_axis.format.line.color.theme_color = MSO_THEME_COLOR.TEXT_1
    category_axis.has_major_gridlines = False
    if spec.type == "bar":
        # Categories read top to bottom in YAML order, with the value axis kept at the bottom.
        category_axis.reverse_order = True
        ad.set_value_axis_crossing(chart.value_axis, "max")


def chart_summary(title: str, chart: schema.Chart) -> str:
    """The chart's alt text: its kind, title and every value."""
    kind = {"bar": "Bar chart", "column": "Column chart", "line": "Line chart", "pie": "Pie chart"}[chart.type]
    parts = []
    for s in chart.series:
        values = "; ".join(f"{c}: {v:g}" for c, v in zip(chart.categories, s.values, strict=False))
        parts.append(f"{s.name}: {values}")
    return f"{kind}, {strip_citations(title)}. " + ". ".join(parts)
