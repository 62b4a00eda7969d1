import { Module } from '@nestjs/common';
import { ChatModule } from '../chat/chat.module.js';
import { HttpValidationPipe } from '../common/pipes/http-validation.pipe.js';
import { AdminController } from './admin.controller.js';

@Module({ imports: [ChatModule], controllers: [AdminController], providers: [HttpValidationPipe] })
export class AdminModule {}
