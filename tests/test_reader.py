import codecs
import io

import pytest

from data.errors import InputError
from data.reader import read_bulletin

TEXT = "案例一：某公司未落实日志留存制度案\n经查，该公司未留存网络日志，公安机关对其处以警告。\n"


@pytest.mark.parametrize("encoding", ["utf-8", "gbk", "gb18030"])
def test_reader_detects_encoding_from_bytes(tmp_path, encoding):
    path = tmp_path / "b.txt"
    path.write_bytes(TEXT.encode(encoding))
    assert read_bulletin(path).text == TEXT


def test_reader_detects_gb18030_only_characters(tmp_path):
    text = TEXT + "𠀀"  # outside GBK, inside GB18030
    path = tmp_path / "b.txt"
    path.write_bytes(text.encode("gb18030"))
    bulletin = read_bulletin(path)
    assert bulletin.text == text and bulletin.encoding == "gb18030"


def test_reader_strips_utf8_bom(tmp_path):
    path = tmp_path / "b.txt"
    path.write_bytes(codecs.BOM_UTF8 + TEXT.encode())
    assert read_bulletin(path).text == TEXT


def test_reader_skips_source_header_keeping_offsets(tmp_path):
    header = "SOURCE: http://example.invalid/x\nTITLE: t\nEXCERPT\n---\n"
    path = tmp_path / "b.txt"
    path.write_text(header + TEXT, encoding="utf-8")
    bulletin = read_bulletin(path)
    assert bulletin.body_start == len(header) and bulletin.text[bulletin.body_start :] == TEXT


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"  \n\n ", "empty"), (b"\x00\x01\x02binary", "binary"), (b"abc\x80\xff\xff\xff" * 3, "decode")],
)
def test_reader_rejects_bad_bytes_naming_the_file(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(InputError, match=rf"bad.txt.*{message}|{message}.*bad.txt"):
        read_bulletin(path)


def test_reader_rejects_huge_file_without_reading_it(tmp_path):
    path = tmp_path / "huge.txt"
    with open(path, "wb") as handle:
        handle.truncate(50_000_000)
    with pytest.raises(InputError, match="huge.txt: 50.0 MB"):
        read_bulletin(path)


def test_reader_missing_file_is_input_error(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        read_bulletin(tmp_path / "missing.txt")


def test_reader_extracts_html_text_without_scripts_or_navigation(tmp_path):
    page = (
        "<html><head><style>p{}</style><script>var x=1;</script></head><body><nav>首页 &gt; 新闻</nav>"
        "<p>案例一：某公司&nbsp;未备案案</p><p>对其处以警告。</p><footer>版权所有</footer></body></html>"
    )
    path = tmp_path / "b.html"
    path.write_text(page, encoding="gbk")
    text = read_bulletin(path).text
    assert "案例一" in text and "警告" in text
    assert "var x" not in text and "首页" not in text and "版权" not in text


def test_reader_reads_docx_paragraphs(tmp_path):
    import docx

    document = docx.Document()
    for line in TEXT.strip().splitlines():
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    path = tmp_path / "b.docx"
    path.write_bytes(buffer.getvalue())
    assert read_bulletin(path).text == TEXT.strip()


def test_reader_rejects_corrupt_docx(tmp_path):
    path = tmp_path / "b.docx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputError, match="b.docx"):
        read_bulletin(path)
