"""Who is using the page: the proxy's identity header, or Streamlit's own OIDC login.

In team mode the app serves only a signed-in user, and each user sees only their own threads
(the page works on ``lens.for_user(user)``). The header is trusted because the proxy in front
(an ALB with OIDC, for example) sets it and strips any the browser sent; its name comes from
``LENSWISE_USER_HEADER``.
"""

from __future__ import annotations

import streamlit as st

from agent.config import Settings
from agent.identity import header_user
from ui.render import escape_markdown


def signed_in_user(settings: Settings) -> str | None:
    """Return the identity of the person at this page, or None if there is none."""
    user = header_user(dict(st.context.headers), settings.user_header)
    if user:
        return user
    info = st.user.to_dict()
    if info.get("is_logged_in"):
        return str(info.get("email") or info.get("sub") or "") or None
    return None


def refuse_anonymous(settings: Settings) -> None:
    """Say that team mode needs a signed-in user; offer Streamlit's login where it is set up."""
    st.error(
        escape_markdown(
            f"This lenswise serves a team: sign in first. No identity came with this page "
            f"(neither the {settings.user_header} header from the proxy nor a Streamlit login)."
        ),
        icon=":material/lock:",
    )
    if "is_logged_in" in st.user.to_dict():  # Streamlit's OIDC login is configured
        st.button("Log in", icon=":material/login:", on_click=st.login)
