"""Each role in a real browser: sign in, own navigation only, language switch, sign out.

Also the sign-in errors (wrong password, lockout), a form error re-shown with what was
typed, and no Content-Security-Policy violation in the console on any page visited.
Expectations come from the code (navigation items, permission declarations, the
translation catalog), so the tests stay right as those grow.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from recovery.auth import services as auth
from recovery.core.permissions import ROLES
from recovery.main.navigation import ITEMS
from recovery.main.routes import HOME_ENDPOINTS
from tests.browser.conftest import LOCKOUT_USER, UI

pytestmark = pytest.mark.browser

HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}


def navigation_for(app, role: str) -> set[str]:
    """The navigation endpoints the permission declarations grant to ``role``."""
    return {
        item.endpoint for item in ITEMS if app.view_functions[item.endpoint].access.allows({role})
    }


def test_every_role_has_a_home_and_some_navigation(live_server):
    homes = dict(HOME_ENDPOINTS)
    for role in ROLES:
        assert role in homes
        assert homes[role] in navigation_for(live_server.app, role)


def test_console_watch_catches_a_csp_violation(ui):
    """The CSP check below is only worth something if it notices a violation."""
    ui.goto(ui.server.path("auth.login"))
    with ui.page.expect_console_message(lambda m: "Content Security Policy" in m.text):
        ui.page.evaluate(
            "() => { const s = document.createElement('script');"
            " s.textContent = 'window.injected = 1'; document.body.appendChild(s); }"
        )
    assert ui.csp_violations
    assert ui.page.evaluate("() => window.injected") is None  # and the browser blocked it
    ui.csp_violations.clear()


def check_language(ui, language: str) -> None:
    """The page is in ``language``: its lang attribute, its words, its switch buttons."""
    server, page = ui.server, ui.page
    other = "zh_CN" if language == "en" else "en"
    assert ui.html_lang() == HTML_LANG[language]
    expect(page.get_by_test_id("brand")).to_have_text(
        server.translate(language, "Receivables & Recovery")
    )
    if page.get_by_test_id("user-menu").count():
        ui.open_user_menu()
        expect(page.get_by_test_id("logout")).to_have_text(server.translate(language, "Sign out"))
        page.keyboard.press("Escape")
    expect(page.get_by_test_id(f"language-{other}")).to_be_visible()
    expect(page.get_by_test_id(f"language-{language}")).to_have_count(0)


def test_the_checked_words_differ_between_the_languages(live_server):
    """So that check_language really sees the page change language."""
    for text in ("Receivables & Recovery", "Sign out"):
        assert live_server.translate("en", text) == text
        assert live_server.translate("zh_CN", text) != text


@pytest.mark.parametrize("role", ROLES)
def test_role_signs_in_sees_own_navigation_switches_language_and_signs_out(ui, role):
    server, page = ui.server, ui.page
    home = dict(HOME_ENDPOINTS)[role]

    # Sign in: the role lands on its home page, in Chinese (the default).
    ui.login(role)
    expect(page).to_have_url(ui.path_is(home))
    expect(page.get_by_test_id("user-menu")).to_be_visible()
    check_language(ui, "zh_CN")
    ui.screenshot(f"home-{role}")

    # Its own navigation, nothing of the others'.
    allowed = navigation_for(server.app, role)
    shown = page.locator("[data-nav]").evaluate_all("links => links.map(a => a.dataset.nav)")
    assert sorted(shown) == sorted(allowed)
    for item in ITEMS:
        if item.endpoint in allowed:
            link = page.locator(f'[data-nav="{item.endpoint}"]')
            expect(link).to_have_attribute("href", server.path(item.endpoint))
            if item.group is None:  # grouped items sit in a closed dropdown
                expect(link).to_be_visible()
    # Every page of its own opens in the browser; every other item's page is refused
    # (the first one shown in the browser, the rest asked for without rendering).
    forbidden = [item.endpoint for item in ITEMS if item.endpoint not in allowed]
    for endpoint in sorted(allowed):
        ui.goto(server.path(endpoint))
    if forbidden:
        ui.goto(server.path(forbidden[0]), status=403)
    for endpoint in forbidden[1:]:
        response = page.request.get(server.absolute(endpoint), max_redirects=0)
        assert response.status == 403, endpoint
        response.dispose()

    # Language: English and back; the switch returns to the page it was pressed on.
    ui.goto(server.path(home))
    for language in ("en", "zh_CN"):
        ui.switch_language(language)
        expect(page).to_have_url(ui.path_is(home))
        check_language(ui, language)

    # Sign out through the user menu: back on the login page, the home page asks to sign in.
    ui.logout()
    expect(page).to_have_url(ui.path_is("auth.login"))
    expect(page.get_by_test_id("user-menu")).to_have_count(0)
    expect(page.locator("[data-nav]")).to_have_count(0)
    ui.goto(server.path(home))
    expect(page).to_have_url(ui.path_is("auth.login", next=server.path(home)))
    expect(page.locator("main input[name=password]")).to_be_visible()


def test_language_choice_is_kept_for_the_user(ui, browser):
    """Chosen once, the language follows the user into a new browser session."""
    ui.login("executive")
    ui.switch_language("en")
    check_language(ui, "en")
    context = browser.new_context()
    try:
        elsewhere = UI(context.new_page(), ui.server)
        elsewhere.login("executive")
        check_language(elsewhere, "en")
        elsewhere.switch_language("zh_CN")  # leave the demo user as it was
        check_language(elsewhere, "zh_CN")
        elsewhere.assert_no_csp_violations()
    finally:
        context.close()


def test_language_switch_on_the_login_page(ui):
    ui.goto(ui.server.path("auth.login"))
    for language in ("en", "zh_CN"):
        ui.switch_language(language)
        expect(ui.page).to_have_url(ui.path_is("auth.login"))
        check_language(ui, language)


def test_wrong_password_shows_the_same_error_for_known_and_unknown_users(ui):
    page = ui.page
    error = page.get_by_test_id("login-error")

    ui.login("finance", "not-the-password")
    expect(page).to_have_url(ui.path_is("auth.login"))
    expect(error).to_be_visible()
    expect(page.get_by_test_id("user-menu")).to_have_count(0)
    # What was typed stays; the password does not.
    expect(page.locator("main input[name=username]")).to_have_value("finance")
    expect(page.locator("main input[name=password]")).to_have_value("")
    ui.screenshot("login-wrong-password")
    expect(error).to_have_attribute("data-error", "wrong")
    known = error.inner_text()

    ui.login("no-such-user", "not-the-password")
    expect(error).to_be_visible()
    assert error.inner_text() == known
    ui.screenshot("login-unknown-user")

    # The right password still works afterwards.
    ui.login("finance")
    expect(page).to_have_url(ui.path_is(dict(HOME_ENDPOINTS)["finance"]))


def test_five_wrong_passwords_lock_the_account(ui):
    server, page = ui.server, ui.page
    error = page.get_by_test_id("login-error")

    messages = []
    for _ in range(auth.MAX_FAILED_LOGINS):
        ui.login(LOCKOUT_USER, "not-the-password")
        expect(error).to_be_visible()
        messages.append(error.inner_text())
    wrong, locked = messages[0], messages[-1]
    assert messages[:-1] == [wrong] * (auth.MAX_FAILED_LOGINS - 1)
    assert locked != wrong
    assert str(auth.LOCK_MINUTES) in locked
    expect(error).to_have_attribute("data-error", "locked")
    ui.screenshot("login-locked")

    # Locked means locked: the right password is refused with the same message.
    ui.login(LOCKOUT_USER)
    expect(page).to_have_url(ui.path_is("auth.login"))
    expect(error).to_have_text(locked)
    expect(page.get_by_test_id("user-menu")).to_have_count(0)
    assert server.query(lambda: auth.find_user(LOCKOUT_USER).is_locked())


def test_user_form_error_is_shown_beside_the_field_with_what_was_typed(ui):
    server, page = ui.server, ui.page
    ui.login("admin")
    ui.goto(server.path("admin.user_new"))
    form = page.locator("main form").first
    form.locator("input[name=username]").fill("new.clerk")
    form.locator("input[name=display_name]").fill("New Clerk")
    form.locator("input[name=roles][value=finance]").check()
    form.locator("input[name=password]").fill("short")
    ui.submit(form.locator("[type=submit]"))

    expect(page).to_have_url(ui.path_is("admin.user_new"))
    form = page.locator("main form").first
    password = form.locator("input[name=password]")
    expect(password).to_have_class(re.compile(r"\bis-invalid\b"))
    feedback = page.locator("#" + password.get_attribute("aria-describedby"))
    expect(feedback).to_be_visible()
    language = "en" if ui.html_lang() == HTML_LANG["en"] else "zh_CN"
    expect(feedback).to_have_text(
        server.translate(language, "Use at least %(n)s characters.")
        % {"n": auth.MIN_PASSWORD_LENGTH}
    )
    # The reason sits in the same field group as the input.
    assert password.locator("xpath=..").locator(f"#{feedback.get_attribute('id')}").count() == 1
    # What was typed is still there (the password, by design, is not).
    expect(form.locator("input[name=username]")).to_have_value("new.clerk")
    expect(form.locator("input[name=display_name]")).to_have_value("New Clerk")
    expect(form.locator("input[name=roles][value=finance]")).to_be_checked()
    expect(form.locator("input[name=username]")).not_to_have_class(re.compile(r"\bis-invalid\b"))
    ui.screenshot("user-form-error")
    assert server.query(lambda: auth.find_user("new.clerk")) is None
