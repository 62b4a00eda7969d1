import { Module } from '@nestjs/common';
import { AdminUiService } from './admin-ui.service.js';

/** The Socket.IO admin UI (present only with ADMIN_UI=true). */
@Module({ providers: [AdminUiService] })
export class AdminUiModule {}
