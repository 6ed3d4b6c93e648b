import pytest
from django.urls import reverse

from agents.choices import OperatorState, PauseSource
from agents.models import Operator, OperatorEvent, PauseReason
from tests import factories
from tests.api import ApiResourceTests, client_for


class TestOperators(ApiResourceTests):
    basename = "operator"
    model = Operator

    def create_data(self, account):
        return {"name": "Mario", "login": "mario", "password": "a-long-password", "pin": "4321", "code": 11,
                "endpoint_kind": "phone", "endpoint": "+393331234567"}

    def update_data(self, account):
        return {"name": "Mario Rossi", "code": 12}

    def make_object(self, account):
        return factories.make_operator(account)

    def test_password_is_hashed_and_never_returned(self, account):
        response = client_for(account).post(self.list_url(), self.create_data(account), format="json")
        assert "password" not in response.json() and "pin" not in response.json()
        op = Operator.objects.get(pk=response.json()["id"])
        assert op.password != "a-long-password" and op.check_password("a-long-password")
        assert op.check_pin("4321")
        listed = client_for(account).get(self.detail_url(op.pk)).json()
        assert "password" not in listed and "pin" not in listed

    def test_password_required_on_create(self, account):
        data = self.create_data(account)
        del data["password"]
        response = client_for(account).post(self.list_url(), data, format="json")
        assert response.status_code == 400
        assert "password" in response.json()


class TestPauseReasons(ApiResourceTests):
    basename = "pause-reason"
    model = PauseReason

    def create_data(self, account):
        return {"name": "Lunch"}

    def update_data(self, account):
        return {"name": "Meeting", "is_active": False}

    def make_object(self, account):
        return factories.make_pause_reason(account, f"Break {account.pk}")


@pytest.mark.django_db
class TestPresenceActions:
    def url(self, op, action):
        return reverse(f"operator-{action}", args=[op.pk])

    def test_login_pause_resume_logoff(self):
        account = factories.make_account()
        op = factories.make_operator(account)
        reason = factories.make_pause_reason(account)
        client = client_for(account)
        assert client.post(self.url(op, "login")).json()["state"] == OperatorState.AVAILABLE
        body = client.post(self.url(op, "pause"), {"reason": reason.pk}, format="json").json()
        assert (body["state"], body["pause_reason"], body["pause_source"]) == (
            OperatorState.PAUSED, "Lunch", PauseSource.OPERATOR)
        assert client.post(self.url(op, "resume")).json()["state"] == OperatorState.AVAILABLE
        assert client.post(self.url(op, "logoff")).json()["state"] == OperatorState.LOGGED_OUT
        log = list(OperatorEvent.objects.filter(operator=op).order_by("at", "id")
                   .values_list("from_state", "to_state", "via"))
        assert log == [("logged_out", "available", "api"), ("available", "paused", "api"),
                       ("paused", "available", "api"), ("available", "logged_out", "api")]

    def test_illegal_transition_is_409_with_code(self):
        account = factories.make_account()
        op = factories.make_operator(account)
        response = client_for(account).post(self.url(op, "resume"))
        assert response.status_code == 409
        assert response.json()["code"] == "not_paused"
        assert not OperatorEvent.objects.filter(operator=op).exists()

    def test_pause_reason_of_another_account_is_refused(self):
        account, other = factories.make_account(), factories.make_account()
        op = factories.make_operator(account)
        foreign = factories.make_pause_reason(other, "Theirs")
        client = client_for(account)
        client.post(self.url(op, "login"))
        response = client.post(self.url(op, "pause"), {"reason": foreign.pk}, format="json")
        assert response.status_code == 409
        assert response.json()["code"] == "unknown_pause_reason"
        op.refresh_from_db()
        assert op.state == OperatorState.AVAILABLE

    def test_action_on_other_accounts_operator_is_404(self):
        account, other = factories.make_account(), factories.make_account()
        theirs = factories.make_operator(other)
        assert client_for(account).post(self.url(theirs, "login")).status_code == 404
        theirs.refresh_from_db()
        assert theirs.state == OperatorState.LOGGED_OUT
