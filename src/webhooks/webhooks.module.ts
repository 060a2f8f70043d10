import { Module } from '@nestjs/common';
import { WebhookSender } from './webhook-sender.service';

/** Signed HTTP POSTs of events to WEBHOOK_URL (the hook for SMS reminders). */
@Module({ providers: [WebhookSender], exports: [WebhookSender] })
export class WebhooksModule {}
