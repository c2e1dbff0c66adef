"""What an anonymous visitor finds: licence verification and its offline guide in the footer and on the
home page, the API under a developers' label, and the offline guide's commands as docs/licences.md has
them (the commands that tests/licences/test_docs.py runs)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "licences.md"


def footer(page: str) -> str:
    return page.split('<footer class="site-footer"', 1)[1]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/progress/", "/search/"])
def test_footer_links_verification_and_offline_guide_for_anonymous_visitors(client, url):
    foot = footer(client.get(url).content.decode())
    assert 'href="/licences/verify/">电子证照核验</a>' in foot
    assert 'href="/licences/verify/#offline">离线核验指南</a>' in foot
    assert 'href="/progress/">办件进度查询</a>' in foot
    # the API is for developers, under their own label, not among the citizens' links
    citizens, developers = foot.split("开发者", 1)
    assert "/api/docs/" not in citizens and 'href="/api/docs/"' in developers


@pytest.mark.django_db
def test_home_page_links_verification_and_the_offline_guide(client):
    main = client.get("/").content.decode().split('<main id="main"', 1)[1].split("</main>", 1)[0]
    assert 'href="/licences/verify/"' in main and 'href="/licences/verify/#offline"' in main


@pytest.mark.django_db
def test_offline_guide_on_the_verify_page_has_the_documented_commands(client):
    page = html.unescape(client.get("/licences/verify/").content.decode())
    assert 'id="offline"' in page
    block = re.search(r"<!-- offline-verification:[^>]*-->\s*```sh\n(.*?)```", DOC.read_text("utf-8"), re.S)
    commands = [line for line in block[1].splitlines() if line.strip() and not line.startswith("#")]
    assert len(commands) == 6
    for command in commands:
        assert command in page, command


def test_the_guide_offers_each_role_the_way_it_may_take(client, world):
    """Citizens apply online; a window clerk takes the item in at the window; other staff are offered
    no link that would answer 403 (staff accounts do not apply as persons)."""
    guide = f"/items/{world.item.code}/"
    apply, window = f"/items/{world.item.code}/apply/", f"/window/items/{world.item.code}/"

    client.force_login(world.user)
    page = client.get(guide).content.decode()
    assert f'href="{apply}"' in page and f'href="{window}"' not in page

    client.force_login(world.handler)
    page = client.get(guide).content.decode()
    assert f'href="{apply}"' not in page and f'href="{window}"' not in page

    client.force_login(world.market_clerk)
    page = client.get(guide).content.decode()
    assert f'href="{apply}"' not in page and f'href="{window}"' in page
    assert client.get(window, follow=True).status_code == 200
