"""Citizens' channels: KakaoTalk skill, Telegram webhook, SMS gateway, the JSON API.

Every endpoint answers only after the report is committed; a repeated message is answered
again and stored once.
"""

from __future__ import annotations

import asyncio
import hmac
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from litestar import Controller, Request, get, post
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException, ServiceUnavailableException
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from services.intake.api.schemas import ReceiptOut, ReportStatusOut
from services.intake.application import IntakeService
from services.intake.channels import kakao, telegram
from services.intake.channels.web import ReportRequest, SmsRequest, sms_to_inbound, web_to_inbound
from services.intake.replies import reply_for
from services.intake.settings import ChannelSettings
from shared.events import utc_now

__all__ = ["ChannelController", "ReportController"]

KAKAO_DEADLINE_S = 4.5


def _same(given: str | None, expected: str) -> bool:
    return bool(expected) and given is not None and hmac.compare_digest(given.encode(), expected.encode())


class ChannelController(Controller):
    path = "/channels"
    tags = ["channels"]

    @post(
        "/kakao/skill",
        operation_id="kakaoSkill",
        status_code=HTTP_200_OK,
        summary="KakaoTalk channel chatbot skill (Open Builder, version 2.0)",
    )
    async def kakao_skill(
        self,
        request: Request[Any, Any, Any],
        data: kakao.KakaoSkillRequest,
        intake: IntakeService,
        channels: ChannelSettings,
    ) -> dict[str, Any]:
        allowed = channels.kakao_allows(request.client.host if request.client else None)
        if not (allowed or _same(request.headers.get("x-jikimi-skill-secret"), channels.kakao_secret)):
            raise PermissionDeniedException("not a configured KakaoTalk skill caller")
        msg = kakao.to_inbound(data, utc_now())
        try:
            # Kakao gives up at 5 s; past that a late answer helps no one. Refusing lets the user
            # send again, and the repeat is recognised if the first one was committed after all.
            reception = await asyncio.wait_for(intake.receive_message(msg), KAKAO_DEADLINE_S)
        except TimeoutError as e:
            raise ServiceUnavailableException("the report could not be recorded in time; please send it again") from e
        reply = reply_for(reception, msg.language)
        return kakao.skill_response(reply.texts, reply.quick_replies)

    @post(
        "/telegram/webhook",
        operation_id="telegramWebhook",
        status_code=HTTP_200_OK,
        summary="Telegram Bot API webhook; answers with a sendMessage call",
    )
    async def telegram_webhook(
        self,
        data: telegram.TelegramUpdate,
        intake: IntakeService,
        channels: ChannelSettings,
        secret: Annotated[str | None, Parameter(header="X-Telegram-Bot-Api-Secret-Token")] = None,
    ) -> dict[str, Any]:
        if not _same(secret, channels.telegram_secret):
            raise NotAuthorizedException("the webhook secret token is missing or wrong")
        msg = telegram.to_inbound(data)
        if msg is None:
            return {}
        reception = await intake.receive_message(msg)
        reply = reply_for(reception, msg.language)
        return {"method": "sendMessage", "chat_id": int(msg.reply_to), "text": "\n\n".join(reply.texts)}

    @post("/sms", operation_id="smsGateway", status_code=HTTP_200_OK, summary="SMS gateway webhook")
    async def sms(
        self,
        data: SmsRequest,
        intake: IntakeService,
        channels: ChannelSettings,
        secret: Annotated[str | None, Parameter(header="X-Jikimi-Gateway-Secret")] = None,
    ) -> ReceiptOut:
        if not _same(secret, channels.sms_secret):
            raise NotAuthorizedException("the gateway secret is missing or wrong")
        reception = await intake.receive_message(sms_to_inbound(data, utc_now()))
        return ReceiptOut.of(reception, reply_for(reception, "ko").texts)


class ReportController(Controller):
    path = "/reports"
    tags = ["reports"]

    @post(
        "/",
        operation_id="submitReport",
        status_code=HTTP_201_CREATED,
        summary="Report an emergency (web page, other systems); Idempotency-Key makes retries safe",
    )
    async def submit(
        self,
        data: ReportRequest,
        intake: IntakeService,
        idempotency_key: Annotated[str | None, Parameter(header="Idempotency-Key", max_length=200)] = None,
    ) -> ReceiptOut:
        key = f"idem:{data.reporter}:{idempotency_key}" if idempotency_key else f"web:{uuid4()}"
        msg = web_to_inbound(data, message_key=key, received_at=utc_now())
        reception = await intake.receive_message(msg)
        return ReceiptOut.of(reception, reply_for(reception, data.language).texts)

    @get(
        "/{report_id:uuid}/status",
        operation_id="getReportStatus",
        summary="A report's progress for its citizen (receipt required; nothing personal)",
    )
    async def status(
        self, report_id: UUID, intake: IntakeService, receipt: Annotated[str, Parameter(query="receipt", max_length=40)]
    ) -> ReportStatusOut:
        report = intake.get_report(report_id)
        if not hmac.compare_digest(report.receipt.encode(), receipt.encode()):
            raise PermissionDeniedException("receipt: does not match this report")
        incident = intake.view.incident(report.incident_id) if report.incident_id else None
        status: Literal["received", "in_incident", "closed", "cancelled"] = "received"
        if report.cancelled:
            status = "cancelled"
        elif incident is not None:
            status = "closed" if incident.status == "closed" else "in_incident"
        return ReportStatusOut(
            report.receipt, status, report.classification.disaster_type, incident.title if incident else None
        )
