"""The app sign-in options of the commands that pull from Microsoft Graph (``signins pull``,
``fleet import --script-id``): one definition, so both spell and explain them alike."""

from pathlib import Path
from typing import Annotated

import typer

ClientId = Annotated[str | None, typer.Option(
    "--client-id", envvar="ODFIX_CLIENT_ID", help="App registration (client) id.")]
Certificate = Annotated[Path | None, typer.Option(
    "--certificate", help="App certificate: .pfx, or PEM key+cert.")]
SecretEnv = Annotated[str | None, typer.Option(
    "--secret-env", help="Env variable holding the app's client secret.")]
TokenEnv = Annotated[str | None, typer.Option(
    "--token-env", help="Env variable holding a ready access token.")]
DeviceCode = Annotated[bool, typer.Option("--device-code", help="Sign in with a device code.")]
