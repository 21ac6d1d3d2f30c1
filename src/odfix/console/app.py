"""The console's routes: parse the request, call the library, render. Nothing here decides.

Pages are server-rendered (Jinja2, plain forms); the one JSON API is report ingest, which
authenticates with a site's enrolment token. Every other page and API needs a signed-in person.
"""

import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware

from odfix.console import auth, cases, charts, dashboard, tenantpull, tenantview
from odfix.console.api import Front
from odfix.console.config import ConsoleConfig
from odfix.console.db import (
    Account,
    Analysis,
    Case,
    EnrolmentToken,
    Intake,
    Report,
    Setting,
    Site,
    TenantPull,
    make_engine,
    now,
    sessions,
)
from odfix.console.ingest import Writer
from odfix.console.limits import BodyLimit
from odfix.errors import OdfixError

log = logging.getLogger("odfix.console")
HERE = Path(__file__).parent
PAGE = 50


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(config: ConsoleConfig, *, graph_http: Any = None) -> Front:
    """The ASGI app for one database (the schema must be migrated: ``odfix serve`` does it):
    report ingest in front (``odfix.console.api``), the pages behind it. ``graph_http``: the
    HTTP client msal signs in to Graph with (tests point it at a local authority)."""
    engine = make_engine(config.db_url)
    make_session = sessions(engine)
    with make_session() as db:
        secret = auth.session_secret(db)
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters["hours"] = charts.hours
    templates.env.globals["oidc"] = config.oidc is not None
    oauth = _oauth(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.writer = Writer(engine)
        try:
            yield
        finally:
            app.state.writer.close()
            engine.dispose()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(SessionMiddleware, secret_key=secret, session_cookie="odfix_session",
                       max_age=12 * 3600, same_site="lax", https_only=config.secure_cookies)
    app.add_middleware(BodyLimit, limit=config.max_upload_bytes)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    def get_db() -> Iterator[Session]:
        with make_session() as db:
            yield db

    def signed_in(request: Request, db: Session = Depends(get_db)) -> auth.Viewer:
        return auth.viewer(db, request.session)

    def lead(who: auth.Viewer = Depends(signed_in)) -> auth.Viewer:
        if not who.is_lead:
            raise auth.Forbidden
        return who

    async def form(request: Request) -> FormData:
        data = await request.form(max_files=20, max_fields=100, max_part_size=4 * 1024 * 1024)
        csrf = data.get("csrf")
        auth.check_csrf(request.session, csrf if isinstance(csrf, str) else None)
        return data

    def render(request: Request, name: str, who: auth.Viewer | None, code: int = 200,
               **context: Any) -> HTMLResponse:
        context.update(request=request, who=who, csrf=auth.csrf_token(request.session))
        return templates.TemplateResponse(request, name, context, status_code=code)

    def problem(request: Request, status: int, message: str) -> Response:
        if _is_api(request):
            return JSONResponse({"error": message}, status_code=status)
        return render(request, "error.html", None, code=status, status_code=status,
                      message=message)

    # -- errors ---------------------------------------------------------------------------
    @app.exception_handler(auth.NotSignedIn)
    async def _not_signed_in(request: Request, _: Exception) -> Response:
        if _is_api(request):
            return JSONResponse({"error": "sign in first"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(auth.Forbidden)
    async def _forbidden(request: Request, _: Exception) -> Response:
        return problem(request, 403, "Only a lead can do this.")

    @app.exception_handler(auth.CsrfFailed)
    async def _csrf(request: Request, _: Exception) -> Response:
        return problem(request, 403, "The form was not sent from this session (CSRF check): "
                                     "reload the page and send it again.")

    @app.exception_handler(OdfixError)
    async def _bad_input(request: Request, error: Exception) -> Response:
        assert isinstance(error, OdfixError)
        return problem(request, 400, error.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return problem(request, 400, f"invalid request: {where} {first.get('msg', '')}".strip())

    @app.exception_handler(HTTPException)
    async def _http(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        return problem(request, error.status_code, str(error.detail))

    @app.exception_handler(Exception)
    async def _crash(request: Request, error: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        return problem(request, 500, "Internal error: it was logged on the server.")

    # -- sign-in --------------------------------------------------------------------------
    @app.get("/login")
    def login_page(request: Request, next: str = "/", error: str | None = None) -> Response:
        return render(request, "login.html", None, next=_local(next), error=error)

    @app.post("/login/local")
    def login_local(request: Request, data: FormData = Depends(form),
                    db: Session = Depends(get_db)) -> Response:
        account = auth.local_sign_in(db, str(data.get("user", "")),
                                     str(data.get("password", "")))
        if account is None:
            return render(request, "login.html", None, code=401, next=_local(
                str(data.get("next", "/"))), error="Wrong user name or password.")
        auth.start_session(request.session, account)
        return RedirectResponse(_local(str(data.get("next", "/"))), status_code=303)

    @app.get("/auth/start")
    async def auth_start(request: Request, next: str = "/") -> Response:
        if oauth is None:
            raise HTTPException(404, "OpenID Connect sign-in is not configured")
        request.session["next"] = _local(next)
        callback = _site(config, request) + "/auth/callback"
        response: Response = await oauth.authorize_redirect(request, callback)
        return response

    @app.get("/auth/callback")
    async def auth_callback(request: Request) -> Response:
        if oauth is None:
            raise HTTPException(404, "OpenID Connect sign-in is not configured")
        from authlib.integrations.base_client import OAuthError
        from joserfc.errors import JoseError

        try:
            token = await oauth.authorize_access_token(request)
        except OAuthError as error:
            return render(request, "login.html", None, code=401, next="/",
                          error=f"Sign-in failed: {error.description or error.error}")
        except JoseError as error:  # the ID token did not verify (audience, signature, expiry)
            return render(request, "login.html", None, code=401, next="/",
                          error=f"Sign-in failed: the ID token was refused ({error})")
        claims = dict(token.get("userinfo") or {})
        assert config.oidc is not None
        role = auth.role_from_claims(claims, config.oidc)
        if role is None:
            return render(request, "login.html", None, code=403, next="/",
                          error="Your account has no console role: ask the admin to assign "
                                "the Technician or Lead app role.")
        with make_session() as db:
            account = auth.oidc_sign_in(db, claims, role)
        target = request.session.get("next", "/")
        auth.start_session(request.session, account)
        return RedirectResponse(_local(str(target)), status_code=303)

    @app.post("/logout")
    def logout(request: Request, _: FormData = Depends(form)) -> Response:
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # -- cases ----------------------------------------------------------------------------
    @app.get("/")
    def home(who: auth.Viewer = Depends(signed_in)) -> Response:
        return RedirectResponse("/cases", status_code=303)

    @app.get("/cases")
    def case_list(request: Request, status: str = "open", cause: str = "", q: str = "",
                  before: int | None = None, who: auth.Viewer = Depends(signed_in),
                  db: Session = Depends(get_db)) -> Response:
        query = select(Case)
        if status in cases.STATUSES:
            query = query.where(Case.status == status)
        if cause:
            query = query.where(Case.cause == cause)
        if q.strip():
            term = q.strip().lower()
            query = query.where((Case.upn == term) | (Case.device_id == term)
                                | (Case.ticket == q.strip()) | (Case.device_name == q.strip()))
        if before is not None:
            query = query.where(Case.id < before)
        rows = db.scalars(query.order_by(Case.id.desc()).limit(PAGE + 1)).all()
        return render(request, "cases.html", who, rows=rows[:PAGE], status=status,
                      cause=cause, q=q, more=rows[PAGE].id + 1 if len(rows) > PAGE else None,
                      statuses=cases.STATUSES)

    @app.get("/cases/{case_id}")
    def case_page(request: Request, case_id: int, who: auth.Viewer = Depends(signed_in),
                  db: Session = Depends(get_db)) -> Response:
        case = db.get(Case, case_id)
        if case is None:
            raise HTTPException(404, f"No case {case_id}.")
        intakes = db.scalars(select(Intake).where(Intake.case_id == case_id)
                             .order_by(Intake.id.desc())).all()
        reports = db.scalars(select(Report).where(Report.case_id == case_id)
                             .order_by(Report.finished_at.desc()).limit(100)).all()
        tenant = tenantview.for_user(db, case.upn) if case.upn else None
        return render(request, "case.html", who, case=case, intakes=intakes, reports=reports,
                      tenant=tenant, statuses=cases.STATUSES)

    @app.post("/cases/{case_id}")
    def case_update(request: Request, case_id: int, data: FormData = Depends(form),
                    who: auth.Viewer = Depends(signed_in),
                    db: Session = Depends(get_db)) -> Response:
        case = db.get(Case, case_id)
        if case is None:
            raise HTTPException(404, f"No case {case_id}.")
        ticket = str(data.get("ticket", "")).strip()
        if ticket:
            case.ticket = ticket[:100]
        cases.set_status(db, case, str(data.get("status", case.status)))
        return RedirectResponse(f"/cases/{case_id}", status_code=303)

    # -- intake ---------------------------------------------------------------------------
    @app.get("/intake")
    def intake_page(request: Request, case: int | None = None,
                    who: auth.Viewer = Depends(signed_in)) -> Response:
        return render(request, "intake.html", who, case_id=case, names=cases.PASTE_NAMES)

    @app.post("/intake")
    def intake_post(request: Request, data: FormData = Depends(form),
                    who: auth.Viewer = Depends(signed_in),
                    db: Session = Depends(get_db)) -> Response:
        upload = data.get("bundle")
        if isinstance(upload, UploadFile) and upload.filename:
            bundle = cases.load_upload(upload.file.read(), upload.filename)
        else:
            bundle = cases.load_pasted({name: str(data.get(name, ""))
                                        for name in cases.PASTE_NAMES})
        error_code = str(data.get("error_code", "")).strip() or None
        diagnosis = cases.diagnose(bundle, error_code)
        case_field = str(data.get("case_id", "")).strip()
        intake = cases.record_intake(
            db, account=who.id, bundle=bundle, diagnosis=diagnosis, error_code=error_code,
            ticket=str(data.get("ticket", "")).strip()[:100] or None,
            upn=str(data.get("upn", "")).strip()[:320] or None,
            case_id=int(case_field) if case_field.isdigit() else None,
            note=cases.ticket_note(diagnosis, _site(config, request) + "/kb"))
        return RedirectResponse(f"/intakes/{intake.id}", status_code=303)

    @app.get("/intakes/{intake_id}")
    def intake_result(request: Request, intake_id: int, who: auth.Viewer = Depends(signed_in),
                      db: Session = Depends(get_db)) -> Response:
        intake = db.get(Intake, intake_id)
        if intake is None:
            raise HTTPException(404, f"No intake {intake_id}.")
        from odfix.guide import load_guide

        return render(request, "diagnosis.html", who, intake=intake,
                      case=db.get(Case, intake.case_id), d=cases.diagnosis_of(intake),
                      guide=load_guide())

    # -- fleet ----------------------------------------------------------------------------
    @app.get("/fleet")
    def fleet(request: Request, who: auth.Viewer = Depends(signed_in),
              db: Session = Depends(get_db)) -> Response:
        reports = db.scalars(select(Report).order_by(Report.id.desc()).limit(PAGE)).all()
        sites = db.scalars(select(Site).order_by(Site.name)).all()
        tokens = db.scalars(select(EnrolmentToken).order_by(EnrolmentToken.id)).all()
        created = request.session.pop("new_token", None)
        return render(request, "fleet.html", who, reports=reports, sites=sites,
                      tokens=tokens, created=created)

    @app.post("/fleet/sites")
    def add_site(request: Request, data: FormData = Depends(form),
                 who: auth.Viewer = Depends(lead), db: Session = Depends(get_db)) -> Response:
        name = str(data.get("name", "")).strip()[:200]
        if not name:
            raise OdfixError("a site needs a name")
        if db.scalar(select(Site.id).where(Site.name == name)) is None:
            db.add(Site(name=name))
            db.commit()
        return RedirectResponse("/fleet", status_code=303)

    @app.post("/fleet/tokens")
    def add_token(request: Request, data: FormData = Depends(form),
                  who: auth.Viewer = Depends(lead), db: Session = Depends(get_db)) -> Response:
        site_field = str(data.get("site_id", ""))
        site = db.get(Site, int(site_field)) if site_field.isdigit() else None
        if site is None:
            raise OdfixError("choose a site for the token")
        token, digest, prefix = auth.new_token()
        db.add(EnrolmentToken(site_id=site.id, label=str(data.get("label", "")).strip()[:200]
                              or site.name, token_hash=digest, prefix=prefix,
                              created_by=who.id))
        db.commit()
        request.session["new_token"] = token
        return RedirectResponse("/fleet", status_code=303)

    @app.post("/fleet/tokens/{token_id}/revoke")
    def revoke_token(token_id: int, _: FormData = Depends(form),
                     who: auth.Viewer = Depends(lead), db: Session = Depends(get_db)) -> Response:
        token = db.get(EnrolmentToken, token_id)
        if token is None:
            raise HTTPException(404, f"No token {token_id}.")
        token.revoked_at = token.revoked_at or now()
        db.commit()
        return RedirectResponse("/fleet", status_code=303)

    # -- dashboard ------------------------------------------------------------------------
    @app.get("/dashboard")
    def dashboard_page(request: Request, days: int = 14, who: auth.Viewer = Depends(signed_in),
                       db: Session = Depends(get_db)) -> Response:
        days = min(max(days, 1), 365)
        board = dashboard.build(db.connection(), days=days)
        return render(
            request, "dashboard.html", who, board=board,
            cause_rates=charts.rate_bars(
                [(r.key, r.success_rate, f"{r.cases:,} cases, {r.open:,} open") for r in
                 board.causes], "success rate per cause"),
            cause_times=charts.duration_bars(
                [(r.key, r.median_s, r.p90_s) for r in board.causes], "time to fix per cause"),
            method_rates=charts.rate_bars(
                [(r.key, r.success_rate, f"{r.runs:,} runs") for r in board.methods],
                "success rate per method"),
            method_times=charts.duration_bars(
                [(r.key, r.median_s, r.p90_s) for r in board.methods],
                "time to fix per method"),
            weekly=charts.weekly_chart(board.weeks, "fix runs per week"))

    # -- tenant ---------------------------------------------------------------------------
    @app.get("/tenant")
    def tenant_list(request: Request, who: auth.Viewer = Depends(signed_in),
                    db: Session = Depends(get_db)) -> Response:
        rows = db.execute(select(Analysis.id, Analysis.name, Analysis.created_at)
                          .order_by(Analysis.id.desc()).limit(PAGE)).all()
        pulls = db.scalars(select(TenantPull).order_by(TenantPull.id.desc()).limit(10)).all()
        today = now().date()
        return render(request, "tenant.html", who, analyses=rows,
                      companions=tenantview.COMPANIONS, graph=config.graph, pulls=pulls,
                      since=today - timedelta(days=7), until=today)

    @app.post("/tenant/pull")
    def tenant_pull(request: Request, data: FormData = Depends(form),
                    who: auth.Viewer = Depends(lead)) -> Response:
        if config.graph is None:
            raise OdfixError("pulling from Microsoft Graph is not configured on this server "
                             "(odfix serve --graph-tenant … --graph-client-id …)")
        since = _day(str(data.get("since", "")), "since")
        until = min(_day(str(data.get("until", "")), "until") + timedelta(days=1), now())
        plan = tenantpull.plan_for(since, until)
        pull_id = tenantpull.start(make_session, config.graph, account=who.id,
                                   name=str(data.get("name", "")).strip(), plan=plan,
                                   http_client=graph_http)
        return RedirectResponse(f"/tenant/pulls/{pull_id}", status_code=303)

    @app.get("/tenant/pulls/{pull_id}")
    def tenant_pull_page(request: Request, pull_id: int, who: auth.Viewer = Depends(signed_in),
                         db: Session = Depends(get_db)) -> Response:
        pull = db.get(TenantPull, pull_id)
        if pull is None:
            raise HTTPException(404, f"No pull {pull_id}.")
        stalled = pull.status == "running" and now() - pull.updated_at > tenantpull.STALE
        return render(request, "pull.html", who, pull=pull, stalled=stalled)

    @app.post("/tenant")
    def tenant_upload(request: Request, data: FormData = Depends(form),
                      who: auth.Viewer = Depends(lead), db: Session = Depends(get_db)) -> Response:
        signins = [(f.filename or "signins.json", f.file.read())
                   for f in data.getlist("signins") if isinstance(f, UploadFile) and f.filename]
        extra = {}
        for what in tenantview.COMPANIONS:
            upload = data.get(what)
            if isinstance(upload, UploadFile) and upload.filename:
                extra[what] = (upload.filename, upload.file.read())
        result = tenantview.analyse(signins, extra)
        name = str(data.get("name", "")).strip() or ", ".join(n for n, _ in signins)
        row = tenantview.store(db, name, result, who.id)
        return RedirectResponse(f"/tenant/{row.id}", status_code=303)

    @app.get("/tenant/{analysis_id}")
    def tenant_page(request: Request, analysis_id: int, who: auth.Viewer = Depends(signed_in),
                    db: Session = Depends(get_db)) -> Response:
        row = db.get(Analysis, analysis_id)
        if row is None:
            raise HTTPException(404, f"No analysis {analysis_id}.")
        result = json.loads(row.result)
        return render(request, "analysis.html", who, analysis=row, a=result,
                      linked=tenantview.link(db, analysis_id))

    # -- KB and settings ------------------------------------------------------------------
    @app.get("/kb")
    def kb(who: auth.Viewer = Depends(signed_in), db: Session = Depends(get_db)) -> Response:
        from odfix.guide import load_guide
        from odfix.publish.kb import KbConfig, render_kb

        org = {key: auth.setting(db, f"kb_{key}") or None
               for key in ("org", "contact", "escalation_team")}
        return HTMLResponse(render_kb(load_guide(), "html", KbConfig(**org)))

    @app.get("/settings")
    def settings_page(request: Request, who: auth.Viewer = Depends(lead),
                      db: Session = Depends(get_db)) -> Response:
        accounts = db.scalars(select(Account).order_by(Account.id)).all()
        kb_settings = {key: auth.setting(db, f"kb_{key}") or ""
                       for key in ("org", "contact", "escalation_team")}
        return render(request, "settings.html", who, accounts=accounts, kb=kb_settings)

    @app.post("/settings")
    def settings_post(request: Request, data: FormData = Depends(form),
                      who: auth.Viewer = Depends(lead), db: Session = Depends(get_db)) -> Response:
        for key in ("org", "contact", "escalation_team"):
            value = str(data.get(key, "")).strip()[:200]
            row = db.get(Setting, f"kb_{key}")
            if row is None:
                db.add(Setting(key=f"kb_{key}", value=value))
            else:
                row.value = value
        db.commit()
        return RedirectResponse("/settings", status_code=303)

    @app.post("/settings/accounts/{account_id}")
    def account_post(account_id: int, data: FormData = Depends(form),
                     who: auth.Viewer = Depends(lead), db: Session = Depends(get_db)) -> Response:
        account = db.get(Account, account_id)
        if account is None:
            raise HTTPException(404, f"No account {account_id}.")
        if account.id == who.id:
            raise OdfixError("you cannot disable your own account")
        account.disabled = data.get("disabled") == "1"
        db.commit()
        return RedirectResponse("/settings", status_code=303)

    return Front(app, config)


def _day(text: str, what: str) -> datetime:
    """A ``YYYY-MM-DD`` form field as midnight UTC."""
    try:
        return datetime.combine(date.fromisoformat(text.strip()), time(), UTC)
    except ValueError:
        raise OdfixError(f"{what}: give a date as YYYY-MM-DD") from None


def _local(target: str) -> str:
    """Only same-site paths as redirect targets (no open redirect)."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _site(config: ConsoleConfig, request: Request) -> str:
    """The console's address as people open it (``--public-url``, else this request's)."""
    return (config.public_url or str(request.base_url)).rstrip("/")


def _oauth(config: ConsoleConfig) -> Any:
    """The OIDC client (authorization code + PKCE S256), or None without a provider."""
    if config.oidc is None:
        return None
    from authlib.integrations.starlette_client import OAuth

    oidc = config.oidc
    kwargs: dict[str, Any] = {"scope": "openid profile email",
                              "code_challenge_method": "S256"}
    if not oidc.client_secret:
        kwargs["token_endpoint_auth_method"] = "none"
    registry = OAuth()
    registry.register(
        "oidc", client_id=oidc.client_id, client_secret=oidc.client_secret,
        server_metadata_url=oidc.issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs=kwargs)
    return registry.create_client("oidc")


def from_env() -> Front:
    """The app of a uvicorn worker (``odfix serve`` put the config in the environment)."""
    return create_app(ConsoleConfig.from_env())
