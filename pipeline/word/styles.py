"""The one style table of the printed documents: page, fonts, sizes, spacing, and what the faces measure.

Both sides read it: the builders (`word.xml`, `word.build`, `word.document`, `word.house_templates`) write
these settings into WordprocessingML, and the measurement (`word.measure`, `word.paginate`) predicts from
the same numbers how wide a label prints, how tall a row is and how many rows fit a page. A setting is
written once, here, so what is printed and what was measured cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Chinese type sizes in points: 小二, 三号, 小三, 四号, 小四, 五号.
XIAO_ER, SAN_HAO, XIAO_SAN, SI_HAO, XIAO_SI, WU_HAO = 18, 16, 15, 14, 12, 10.5
#: Centimetres per point, and twips (w:w, w:trHeight …) per centimetre.
PT_CM = 2.54 / 72
TWIPS_CM = 567
#: w:line of single spacing when w:lineRule is auto (a 1.5-line paragraph has w:line="360").
AUTO_LINE = 240
#: The languages of every run, as Chinese Word writes them: Chinese (PRC) for East-Asian text (its glyph
#: forms: declared Japanese, LibreOffice prints the Japanese ones), English for digits and Latin letters
#: (declared Chinese, LibreOffice breaks a line inside a number: 20 / 17年).
LANGS = {"val": "en-US", "eastAsia": "zh-CN"}


@dataclass(frozen=True)
class Style:
    """Every setting of the printed page: lengths in cm, sizes and spacing in points unless named otherwise."""

    # The page: A4 portrait.
    page_width: float = 21.0
    page_height: float = 29.7
    margin_top: float = 2.0
    margin_bottom: float = 1.8
    margin_left: float = 1.9
    margin_right: float = 1.9
    footer_distance: float = 1.0  # the footer (第 X 页 共 Y 页) starts this far above the page's edge
    # The faces: one family for Chinese, digits and Latin, as Word prints a 宋体 letter.
    body_font: str = "宋体"
    title_font: str = "黑体"
    # Sizes: titles 小二, subtitles 四号, running text 小四, tables and notes 五号.
    title_size: float = XIAO_ER
    subtitle_size: float = SI_HAO
    para_size: float = XIAO_SI
    cell_size: float = WU_HAO
    note_size: float = WU_HAO
    # Spacing of the items outside tables (points before / after; line spacing in lines).
    title_after: float = 10
    subtitle_before: float = 12
    subtitle_after: float = 6
    para_line: float = 1.5
    para_indent: int = 2  # characters, first line
    note_line: float = 1.25
    note_before: float = 6  # before the first note
    note_indent: int = 2  # characters, first line of every note after the first
    outline_line: float = 1.25  # the report outline printed inside a table cell
    sign_before: float = 30  # room above a signature line for the seal
    line_after: float = 6  # after a signature or a `line` (承诺企业（盖章）：…)
    line_pad: int = 4  # characters of room right of a right-aligned line, for the seal
    after_table: float = 2  # the exact line of the paragraph after a table: tiny, so a full page pushes no empty page
    # Tables.
    cell_line: float = 14  # exact line in a cell at cell_size: the CJK faces' own line is half as tall again as their size
    row_height: float = 0.75  # cm, least height of a bordered row: room to write by hand
    border_size: int = 4  # eighths of a point
    cell_margin: float = 0.1  # cm, left and right inside every cell (w:tblCellMar, 57 twips)
    vertical_max: int = 10  # characters of a side label printed one per line; longer ones go two per line
    # What the faces measure (an upper bound for Noto Serif CJK SC, so what fits here fits there).
    em_wide: float = 1.0  # a Chinese character or full-width sign, in em of its size
    em_latin: float = 0.6  # a digit, a Latin letter or sign
    em_space: float = 0.3
    line_em: float = 1.45  # a paragraph's line, in em of its size (Noto CJK: ascent 1.16 + descent 0.288)
    measure_slack: float = 0.2  # cm a measured cell keeps free beyond its margins, for what the estimate misses

    @property
    def printed_width(self) -> float:
        """Return the width between the page's margins (cm)."""
        return self.page_width - self.margin_left - self.margin_right

    @property
    def printed_height(self) -> float:
        """Return the height between the page's margins (cm)."""
        return self.page_height - self.margin_top - self.margin_bottom

    @property
    def cell_pad(self) -> float:
        """Return what a cell's text cannot use of its width (cm): both margins and the measuring slack."""
        return 2 * self.cell_margin + self.measure_slack

    @property
    def border_pt(self) -> float:
        """Return the width of one drawn border in points."""
        return self.border_size / 8


#: THE style table.
STYLE = Style()
