"""The demo account that `make run` loads (idempotently): a small Italian call center, ready to ring."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction

from accounts.actions import ensure_supervisor_group
from accounts.models import Account, AccountMember, ApiToken, Plan, hash_token
from agents.choices import EndpointKind
from agents.models import Operator, PauseReason
from core.audio import tone_wav
from routing.audio import inspect_audio
from routing.choices import Criterion, OverflowAction, PromptKind
from routing.models import PhoneNumber, Prompt, Service, ServiceMembership

DEMO_API_TOKEN = "cnt_demo-token-for-local-use-only"
OPERATORS = [("Mario Rossi", "mario", 101, 8), ("Giulia Bianchi", "giulia", 102, 6),
             ("Luca Verdi", "luca", 103, 5), ("Anna Neri", "anna", 104, 9), ("Paolo Gallo", "paolo", 105, 3)]


@dataclass
class DemoLogins:
    admin: str
    supervisor: str
    operators: list[str]
    password: str
    api_token: str


def _prompt(account: Account, name: str, kind: str, seconds: float, freq: float) -> Prompt:
    prompt = Prompt.objects.filter(account=account, name=name).first()
    if prompt:
        return prompt
    data = tone_wav(seconds, freq)
    info = inspect_audio(data)
    prompt = Prompt(account=account, name=name, kind=kind, audio_format=info.format,
                    duration_seconds=info.duration, size_bytes=len(data))
    prompt.audio.save(f"{name.lower().replace(' ', '-')}.wav", ContentFile(data), save=False)
    prompt.save()
    return prompt


@transaction.atomic
def load_demo() -> DemoLogins:
    password = settings.DEMO_PASSWORD
    User = get_user_model()
    if not User.objects.filter(username="admin").exists():
        User.objects.create_superuser("admin", "admin@localhost", password)
    plan = Plan.objects.get(code="unlimited-plus")
    account, _ = Account.objects.get_or_create(slug="demo", defaults={
        "name": "Demo Srl", "plan": plan, "timezone": "Europe/Rome", "language": "it",
        "duty_email": "duty@demo.example"})
    if not User.objects.filter(username="supervisor").exists():
        user = User.objects.create_user("supervisor", "supervisor@demo.example", password, is_staff=True)
        AccountMember.objects.create(user=user, account=account)
    User.objects.get(username="supervisor").groups.add(ensure_supervisor_group())
    if not ApiToken.objects.filter(key_hash=hash_token(DEMO_API_TOKEN)).exists():
        ApiToken.objects.create(account=account, name="demo", prefix=DEMO_API_TOKEN[:12],
                                key_hash=hash_token(DEMO_API_TOKEN))
    for name in ("Pranzo", "Riunione", "Formazione"):
        PauseReason.objects.get_or_create(account=account, name=name)
    operators = []
    for name, login, code, _skill in OPERATORS:
        op = Operator.objects.filter(account=account, login=login).first()
        if op is None:
            op = Operator(account=account, name=name, login=login, code=code, endpoint_kind=EndpointKind.SIP,
                          endpoint=f"sip:{login}@demo.centralino.local")
            op.set_password(password)
            op.set_pin("1234")
            op.save()
        operators.append(op)
    welcome = _prompt(account, "Benvenuto", PromptKind.WELCOME, 2.0, 523.0)
    hold = _prompt(account, "Musica di attesa", PromptKind.HOLD, 4.0, 392.0)
    support, _ = Service.objects.get_or_create(account=account, name="Assistenza", defaults={
        "description": "Assistenza clienti", "criterion": Criterion.SKILL, "welcome_prompt": welcome,
        "hold_prompt": hold, "overflow_action": OverflowAction.VOICEMAIL})
    sales, _ = Service.objects.get_or_create(account=account, name="Vendite", defaults={
        "description": "Nuovi contratti", "criterion": Criterion.LONGEST_IDLE, "welcome_prompt": welcome,
        "hold_prompt": hold, "overflow_action": OverflowAction.REDIRECT, "overflow_number": "+390299999999"})
    for op, (_n, _l, _c, skill) in zip(operators, OPERATORS, strict=True):
        ServiceMembership.objects.get_or_create(service=support, operator=op, defaults={"skill_level": skill})
    for op in operators[:3]:
        ServiceMembership.objects.get_or_create(service=sales, operator=op, defaults={"skill_level": 5})
    PhoneNumber.objects.get_or_create(number="+390212345678", defaults={
        "account": account, "service": support, "label": "Assistenza Milano"})
    PhoneNumber.objects.get_or_create(number="+390687654321", defaults={
        "account": account, "service": sales, "label": "Vendite Roma"})
    return DemoLogins(admin="admin", supervisor="supervisor", operators=[o.login for o in operators],
                      password=password, api_token=DEMO_API_TOKEN)
