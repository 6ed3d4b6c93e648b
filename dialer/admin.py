"""The dialer in the admin: campaigns (start, pause, resume, finish), lead lists with an import page (CSV or
XLSX, a report of every refused row) and a progress bar, leads (exported with django-import-export), the
do-not-call list, attempts and dispositions (read-only)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export import resources
from import_export.admin import ExportMixin

from accounts.scoped_admin import AccountScopedAdmin, ReadOnlyAdmin
from core.errors import ActionError

from . import actions, imports, lead_imports, page
from .choices import CampaignState, ImportState, RefusalReason
from .models import Attempt, Campaign, Disposition, DoNotCall, Lead, LeadImport, LeadList


def _state_action(to_state: str, label: str):
    def run(modeladmin, request: HttpRequest, queryset) -> None:
        for campaign in queryset:
            try:
                actions.change_campaign_state(campaign.pk, to_state, by=request.user.get_username())
            except ActionError as exc:
                modeladmin.message_user(request, f"{campaign}: {exc.message}", messages.ERROR)
    run.short_description = label
    run.__name__ = f"make_{to_state}"
    return run


@admin.register(Campaign)
class CampaignAdmin(AccountScopedAdmin):
    list_display = ["name", "mode", "state", "service", "profile", "abandon_target", "state_changed_at",
                    "state_changed_by", "account"]
    list_filter = ["state", "mode", "profile", "account"]
    search_fields = ["name"]
    readonly_fields = ["state", "state_changed_at", "state_changed_by", "page_link"]
    actions = [_state_action(CampaignState.RUNNING, _("Start or resume")),
               _state_action(CampaignState.PAUSED, _("Pause")),
               _state_action(CampaignState.FINISHED, _("Finish"))]

    @admin.display(description=_("campaign page"))
    def page_link(self, obj: Campaign) -> str:
        if obj.pk is None:
            return "-"
        return format_html('<a href="{}" id="campaign-page-link">{}</a>',
                           reverse("admin:dialer_campaign_page", args=[obj.pk]),
                           _("Progress, pacing and charts"))

    def get_urls(self):
        return [path("<int:pk>/page/", self.admin_site.admin_view(self.page_view), name="dialer_campaign_page"),
                path("<int:pk>/state/", self.admin_site.admin_view(self.state_view), name="dialer_campaign_state"),
                *super().get_urls()]

    def page_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        campaign = get_object_or_404(self.get_queryset(request).select_related("account", "service"), pk=pk)
        if not self.has_view_permission(request, campaign):
            raise PermissionDenied
        return page.campaign_page(request, campaign, {**self.admin_site.each_context(request),
                                                      "opts": self.model._meta})

    def state_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Pause or resume from the campaign page (POST only; the action checks the transition)."""
        campaign = get_object_or_404(self.get_queryset(request), pk=pk)
        if request.method != "POST" or not self.has_change_permission(request, campaign):
            raise PermissionDenied
        to_state = request.POST.get("state", "")
        if to_state not in (CampaignState.RUNNING, CampaignState.PAUSED):
            self.message_user(request, _("Unknown state."), messages.ERROR)
        else:
            try:
                actions.change_campaign_state(campaign.pk, to_state, by=request.user.get_username())
            except ActionError as exc:
                self.message_user(request, exc.message, messages.ERROR)
        return redirect("admin:dialer_campaign_page", pk=campaign.pk)


def progress_html(p: dict[str, int], list_id: int) -> str:
    pct = round(100 * p["done"] / p["total"]) if p["total"] else 0
    label = _("%(done)d done, %(remaining)d remaining of %(total)d") % p
    return format_html('<span class="lead-list-progress" data-list="{}" data-done="{}" data-remaining="{}">'
                       '<progress max="100" value="{}" aria-label="{}" title="{} %"></progress> {}</span>',
                       list_id, p["done"], p["remaining"], pct, label, pct, label)


class LeadImportForm(forms.Form):
    file = forms.FileField(label=_("CSV or XLSX file"),
                           help_text=_("A header row; a column named phone (E.164), optionally timezone."))


@admin.register(LeadList)
class LeadListAdmin(AccountScopedAdmin):
    list_display = ["name", "campaign", "is_active", "progress_bar", "account"]
    list_filter = ["is_active", "account"]
    search_fields = ["name"]

    @admin.display(description=_("progress (done / remaining)"))
    def progress_bar(self, obj: LeadList) -> str:
        """The list's bar: leads done (called to an end: connected, exhausted, do-not-call) against those
        remaining (new, waiting for a retry, being called), as the campaign page counts them."""
        return format_html('{} <a href="{}">{}</a>', progress_html(imports.progress(obj), obj.pk),
                           reverse("admin:dialer_leadlist_import", args=[obj.pk]), _("import"))

    def get_urls(self):
        return [path("<int:pk>/import/", self.admin_site.admin_view(self.import_view),
                     name="dialer_leadlist_import"),
                path("<int:pk>/import/<int:job>/progress/", self.admin_site.admin_view(self.import_progress_view),
                     name="dialer_leadlist_import_progress"), *super().get_urls()]

    def _lead_list(self, request: HttpRequest, pk: int) -> LeadList:
        lead_list = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, lead_list):
            raise PermissionDenied
        return lead_list

    def import_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Upload a file (imported in the background, dialer/lead_imports.py); the list's recent imports with
        their bars, and the report of the one asked for (`?job=`, else the latest)."""
        lead_list = self._lead_list(request, pk)
        form = LeadImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > lead_imports.MAX_UPLOAD_BYTES:
                form.add_error("file", _("At most 20 MB."))
            else:
                try:
                    job = lead_imports.start_lead_import(lead_list.pk, upload.read(), upload.name,
                                                         by=request.user.get_username(),
                                                         language=request.LANGUAGE_CODE)
                except imports.ImportFileError as exc:
                    form.add_error("file", str(exc))
                else:
                    return redirect(f"{reverse('admin:dialer_leadlist_import', args=[lead_list.pk])}?job={job.pk}")
        jobs = list(LeadImport.objects.filter(lead_list=lead_list).defer("content", "refused")[:IMPORTS_SHOWN])
        shown_id = request.GET.get("job", "")
        shown = (LeadImport.objects.filter(lead_list=lead_list, pk=int(shown_id)).defer("content").first()
                 if shown_id.isdigit() else None)
        if shown is None and jobs:
            shown = LeadImport.objects.defer("content").get(pk=jobs[0].pk)
        refused = [{**r, "reason": RefusalReason(r["reason"]).label if r["reason"] in RefusalReason.values
                    else r["reason"]} for r in (shown.refused if shown else [])]
        context = {**self.admin_site.each_context(request), "title": _("Import leads into %(list)s")
                   % {"list": lead_list}, "form": form, "lead_list": lead_list, "opts": self.model._meta,
                   "jobs": [(job, lead_imports.progress(job)) for job in jobs],
                   "shown": shown, "shown_progress": lead_imports.progress(shown) if shown else None,
                   "refused": refused,
                   "refused_kept": lead_imports.REFUSED_KEPT,
                   "shown_done": shown is not None and shown.state == ImportState.DONE,
                   # the bar's count as the page's script rewrites it (the same text as the template's)
                   "row_count_template": _("%(checked)s of %(total)s rows"),
                   "progress_bar": progress_html(imports.progress(lead_list), lead_list.pk)}
        return TemplateResponse(request, "admin/dialer/lead_import.html", context)

    def import_progress_view(self, request: HttpRequest, pk: int, job: int) -> JsonResponse:
        """The bar's figures, polled by the import page while the import runs."""
        lead_list = self._lead_list(request, pk)
        found = get_object_or_404(LeadImport.objects.defer("content", "refused"), lead_list=lead_list, pk=job)
        return JsonResponse(lead_imports.progress(found))


IMPORTS_SHOWN = 10  # the recent imports the import page lists


class LeadResource(resources.ModelResource):
    class Meta:
        model = Lead
        fields = ["id", "lead_list__name", "phone", "timezone", "state", "attempts", "last_outcome",
                  "next_attempt_at", "fields"]


@admin.register(Lead)
class LeadAdmin(ExportMixin, AccountScopedAdmin):
    resource_classes = [LeadResource]
    list_display = ["phone", "lead_list", "timezone", "state", "attempts", "last_outcome", "next_attempt_at"]
    list_filter = ["state", "last_outcome"]
    search_fields = ["phone"]
    readonly_fields = ["state", "attempts", "last_outcome", "next_attempt_at", "abandoned_at", "machine_at"]


@admin.register(DoNotCall)
class DoNotCallAdmin(AccountScopedAdmin):
    list_display = ["phone", "reason", "added_at", "added_by", "account"]
    search_fields = ["phone"]
    readonly_fields = ["added_at", "added_by"]

    def save_model(self, request: HttpRequest, obj: DoNotCall, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        actions.add_do_not_call(obj.account_id, obj.phone, reason=obj.reason, by=request.user.get_username())


@admin.register(Attempt)
class AttemptAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "campaign", "lead", "number", "outcome", "amd_verdict", "operator", "dialed_at",
                    "answered_at", "connected_at", "ended_at"]
    list_filter = ["outcome", "amd_verdict"]
    list_select_related = ["campaign", "lead", "operator"]


@admin.register(Disposition)
class DispositionAdmin(ReadOnlyAdmin):
    account_path = "attempt__account"
    list_display = ["at", "attempt", "kind", "callback_at", "operator"]
    list_filter = ["kind"]
