import { Module } from '@nestjs/common';
import { WebhookHooksService } from './webhook-hooks.service.js';
import { WebhookSenderService } from './webhook-sender.service.js';

/** Signed webhooks to WEBHOOK_URL (present only when it is set). */
@Module({ providers: [WebhookSenderService, WebhookHooksService], exports: [WebhookSenderService] })
export class WebhooksModule {}
