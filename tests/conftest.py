"""Shared fixtures: a tiny real corpus, and an index built from it once per test session."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from assistant.config import Settings

REPO = Path(__file__).resolve().parent.parent
SEED_CORPUS = REPO / "corpus"

# Three short articles in the shape of the real ones (raw page text with junk around the body).
TINY_ARTICLES = {
    "a_suining": """您当前的位置 : 示例网 >> 新闻 >> 科技
遂宁市科技成果转化成效明显
2024-12-09 10:00 来源:遂宁日报 编辑:王五
近年来,遂宁市先后出台《遂宁市支持科技成果转移转化若干政策》等文件,推动科技成果就地转化。全市技术合同认定登记额达17.73亿元、同比增长33.21%。
下一步,遂宁市将建设一批中试平台,打通成果转化“最后一公里”。
版权声明:本网所有稿件未经授权不得转载。
精彩推荐
1   某地举行运动会
2   某市召开工作会议
""",
    "b_mongolia": """内蒙古推进创新联合体建设
自治区科技厅支持龙头企业牵头组建创新联合体,联合高校和科研院所共同承担重大科技任务。
同时,自治区科技厅还开通了创新联合体网上备案绿色通道,常年开放、即时受理。截至2022年5月,内蒙古共组建并备案各类创新联合体24个。
原文链接:http://example.gov.cn/news/1.html
[免责声明] 本文来源于网络转载,仅供学习交流使用。
""",
    "c_gansu": """甘肃省组建首批企业创新联合体
来源:甘肃日报 2021-08-26
甘肃省依托金川集团、酒钢集团等龙头企业,启动组建第一批企业创新联合体5家。今年依托创新联合体实施重大科技项目5项,安排经费7000万元。
省科技厅将对创新联合体给予科技项目倾斜支持。
分享到
""",
}

# An article none of the tiny corpus's questions can be answered from: tests add it and ask about it.
NEW_ARTICLE = """兰州新区设立科技成果转化基金
来源:兰州日报 2024-03-01
兰州新区设立规模为10亿元的科技成果转化基金,重点支持新材料和生物医药项目落地。
"""


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    for name, text in TINY_ARTICLES.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def tiny_settings(tmp_path_factory, tiny_corpus) -> Settings:
    index_dir = tmp_path_factory.mktemp("index") / "index"
    return Settings(index_dir=index_dir, corpus_dir=tiny_corpus)


@pytest.fixture(scope="session")
def tiny_assistant(tiny_settings):
    """The real pipeline (USE encoder, FAISS, bm25s) over the tiny corpus, built once."""
    from assistant.pipeline import Assistant

    return Assistant.open(tiny_settings)


@pytest.fixture(scope="session")
def small_passages(tmp_path_factory, tiny_corpus):
    """The tiny corpus cut into passages of one to three sentences (each article in several)."""
    from assistant.pipeline import Assistant

    return Assistant.open(Settings(index_dir=tmp_path_factory.mktemp("index") / "index", corpus_dir=tiny_corpus,
                                   chunk_tokens=40, overlap_tokens=10))


@pytest.fixture()
def fresh_settings(tmp_path, tiny_corpus) -> Settings:
    """A private copy of the tiny corpus and an empty index folder, for tests that change things."""
    corpus = tmp_path / "corpus"
    shutil.copytree(tiny_corpus, corpus)
    return Settings(index_dir=tmp_path / "index", corpus_dir=corpus)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tiny_assistant):
    """The real Gradio app over the tiny index, served on 127.0.0.1 for one test module."""
    from assistant.web import build_app, launch_options

    app = build_app(tiny_assistant)
    _, url, _ = app.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True,
                           **launch_options(tiny_assistant.settings))
    yield url
    app.close()


def pytest_addoption(parser):
    parser.addoption("--screenshots", metavar="DIR", default=None,
                     help="keep the browser tests' screenshots in DIR (e.g. docs) as well as in their temp folders")
