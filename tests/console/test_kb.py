"""The KB page: the published article for the team's own organisation, from the guide data."""

from console_kit import Console

from odfix.guide import load_guide


def test_kb_page_is_the_article_for_the_teams_organisation(lead: Console) -> None:
    saved = lead.post("/settings", {"org": "Contoso <IT>", "contact": "ext. 4242",
                                    "escalation_team": "Identity team"})
    assert saved.status_code in (200, 303)
    page = lead.client.get("/kb")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "Contoso &lt;IT&gt;" in html and "Contoso <IT>" not in html  # escaped, not markup
    assert "ext. 4242" in html and "Identity team" in html
    assert "<script src=" not in html and "https://cdn" not in html  # works offline
    for method in load_guide().methods:
        assert f'id="m-{method.id}"' in html, method.id

