"""The dashboard's entry point: ``streamlit run ui/app.py`` (``energy ui`` does this).

The database is ``ENERGY_DB_URL``. Access control (see docs/dashboard.md): with
``ENERGY_UI_PASSWORD_SHA256`` (hex SHA-256 of a password; ``energy ui`` sets it from the config's
``[ui] password_sha256``) or ``ENERGY_UI_PASSWORD`` every session must give the password first;
with ``ENERGY_UI_AUTH=oidc`` it must log in through Streamlit's OIDC login (``st.login``, provider
in ``.streamlit/secrets.toml``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import streamlit as st

PAGES = Path(__file__).parent / "views"  # not "pages": Streamlit would also serve those as pages of their own, past the login


def password_digest() -> str | None:
    """The SHA-256 (hex) of the configured password, or None when none is configured."""
    digest = os.environ.get("ENERGY_UI_PASSWORD_SHA256")
    if digest:
        return digest.strip().lower()
    plain = os.environ.get("ENERGY_UI_PASSWORD")
    return hashlib.sha256(plain.encode()).hexdigest() if plain else None


def password_gate(digest: str) -> None:
    """Stop the script until this session has given the password."""
    if st.session_state.get("authenticated"):
        return
    st.title("Energy dashboard")
    with st.form("login"):
        given = st.text_input("Password", type="password")
        if st.form_submit_button("Log in"):
            if hmac.compare_digest(hashlib.sha256(given.encode()).hexdigest(), digest):
                st.session_state["authenticated"] = True
                st.rerun()
            st.error("Wrong password.")
    st.stop()


def oidc_gate() -> None:
    """Stop the script until the user has logged in with the configured OIDC provider."""
    if st.user.is_logged_in:
        st.sidebar.caption(f"Logged in as {st.user.get('name') or st.user.get('email')}")
        st.sidebar.button("Log out", on_click=st.logout)
        return
    st.title("Energy dashboard")
    st.button("Log in", on_click=st.login)
    st.stop()


st.set_page_config(page_title="Energy dashboard", page_icon=":material/bolt:", layout="wide")
if os.environ.get("ENERGY_UI_AUTH") == "oidc":
    oidc_gate()
elif digest := password_digest():
    password_gate(digest)

navigation = st.navigation(
    [
        st.Page(PAGES / "overview.py", title="Overview", icon=":material/factory:", default=True),
        st.Page(PAGES / "machines.py", title="Machines", icon=":material/precision_manufacturing:"),
        st.Page(PAGES / "plan.py", title="Plan", icon=":material/event:"),
        st.Page(PAGES / "savings.py", title="Savings", icon=":material/savings:"),
        st.Page(PAGES / "emissions.py", title="Emissions", icon=":material/eco:"),
        st.Page(PAGES / "reports.py", title="Reports", icon=":material/description:"),
        st.Page(PAGES / "meters.py", title="Meters", icon=":material/speed:"),
    ]
)
navigation.run()
