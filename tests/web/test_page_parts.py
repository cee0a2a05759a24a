"""The two pages share their top bar and login form from templates/parts/."""

from __future__ import annotations

import re

from web_extras.pages import PAGES, TEMPLATES, render


def test_each_page_gets_the_shared_parts_and_marks_only_its_own_link() -> None:
    login = (TEMPLATES / "parts" / "login.html").read_text()
    for template, own_href in PAGES.values():
        html = render(template, own_href)
        assert "<!--#include" not in html, template
        assert html.count('id="login-form"') == 1
        assert html.count('id="unit-select"') == 1
        assert html.count('id="live-status"') == 1
        assert re.sub(r"\s+", " ", login).strip() in re.sub(r"\s+", " ", html)
        current = re.findall(r'<a href="([^"]*)" aria-current="page"', html)
        assert current == [own_href], template


def test_the_page_files_hold_no_copy_of_the_shared_markup() -> None:
    for template, _ in PAGES.values():
        text = (TEMPLATES / template).read_text()
        assert 'id="login-form"' not in text
        assert "<h1>BeerPi</h1>" not in text
