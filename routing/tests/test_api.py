from django.core.files.uploadedfile import SimpleUploadedFile

from core.audio import tone_wav
from routing.choices import Criterion, PromptKind
from routing.models import CallerRoute, PhoneNumber, Prompt, Service
from tests import factories
from tests.api import ApiResourceTests


class TestNumbers(ApiResourceTests):
    basename = "number"
    model = PhoneNumber

    def create_data(self, account):
        return {"number": "+390212345001", "label": "Milano", "service": factories.make_service(account).pk}

    def update_data(self, account):
        return {"label": "Roma", "criterion_override": Criterion.SKILL}

    def make_object(self, account):
        return factories.make_number(account)


class TestServices(ApiResourceTests):
    basename = "service"
    model = Service

    def create_data(self, account):
        op = factories.make_operator(account)
        return {"name": "Support", "criterion": Criterion.SKILL, "memberships": [{"operator": op.pk,
                                                                                  "skill_level": 7}]}

    def update_data(self, account):
        return {"description": "Customer care", "wrapup_seconds": 30}

    def make_object(self, account):
        return factories.make_service(account)

    def test_memberships_are_written_and_replaced(self, account):
        a, b = factories.make_operator(account), factories.make_operator(account)
        client = factories_client(account)
        created = client.post(self.list_url(), {"name": "S", "memberships": [
            {"operator": a.pk, "skill_level": 3}, {"operator": b.pk, "skill_level": 9}]}, format="json")
        assert created.status_code == 201
        service = Service.objects.get(pk=created.json()["id"])
        assert dict(service.memberships.values_list("operator_id", "skill_level")) == {a.pk: 3, b.pk: 9}
        client.patch(self.detail_url(service.pk), {"memberships": [{"operator": b.pk, "skill_level": 4}]},
                     format="json")
        assert dict(service.memberships.values_list("operator_id", "skill_level")) == {b.pk: 4}

    def test_a_membership_without_its_operator_is_a_400_and_one_without_a_skill_level_gets_the_default(
            self, account):
        """Found by the fuzzing once writes were JSON: a PATCH is partial down to the nested memberships, so
        one without `operator` reached the writer (a 500); one without `skill_level` failed the same way."""
        op = factories.make_operator(account)
        client = factories_client(account)
        service = factories.make_service(account)
        url = self.detail_url(service.pk)
        refused = client.patch(url, {"memberships": [{"skill_level": 4}]}, format="json")
        assert refused.status_code == 400 and "memberships" in refused.json()
        assert client.patch(url, {"memberships": [{"operator": op.pk}]}, format="json").status_code == 200
        assert dict(service.memberships.values_list("operator_id", "skill_level")) == {op.pk: 5}


class TestPrompts(ApiResourceTests):
    basename = "prompt"
    model = Prompt
    multipart = True

    def create_data(self, account):
        return {"name": "Welcome", "kind": PromptKind.WELCOME,
                "audio": SimpleUploadedFile("w.wav", tone_wav(1.5), content_type="audio/wav")}

    def update_data(self, account):
        return {"name": "Renamed"}

    def make_object(self, account):
        client = factories_client(account)
        response = client.post(self.list_url(), {"name": f"P{account.pk}", "kind": PromptKind.HOLD,
                                                 "audio": SimpleUploadedFile("h.wav", tone_wav(0.5))},
                               format="multipart")
        assert response.status_code == 201, response.content
        return Prompt.objects.get(pk=response.json()["id"])

    def test_duration_and_format_are_measured(self, account):
        response = factories_client(account).post(self.list_url(), self.create_data(account), format="multipart")
        body = response.json()
        assert body["audio_format"] == "wav"
        assert float(body["duration_seconds"]) == 1.5


class TestCallerRoutes(ApiResourceTests):
    basename = "caller-route"
    model = CallerRoute

    def create_data(self, account):
        return {"prefix": "+3902", "service": factories.make_service(account).pk}

    def update_data(self, account):
        return {"description": "Milan callers"}

    def make_object(self, account):
        return CallerRoute.objects.create(account=account, prefix=f"+39{account.pk}",
                                          service=factories.make_service(account))


def factories_client(account):
    from tests.api import client_for

    return client_for(account)
