from django.apps import AppConfig


class StartupConfig(AppConfig):
    name = "startup"
    verbose_name = "Startup wiring"

    def ready(self) -> None:
        from campaigns import rehearsal_hook
        from startup.rehearsal_stage import SandboxStage

        # Campaign rehearsals play on the built-in sandbox (campaigns cannot import it).
        rehearsal_hook.register(SandboxStage())
