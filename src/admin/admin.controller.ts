import {
  Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, Post, UseFilters, UseGuards, UsePipes,
} from '@nestjs/common';
import { ChatService } from '../chat/chat.service.js';
import { HttpBodyFilter } from '../common/filters/http-body.filter.js';
import { AdminTokenGuard } from '../common/guards/admin-token.guard.js';
import { HttpValidationPipe } from '../common/pipes/http-validation.pipe.js';
import { PeerRegistryService } from '../users/peer-registry.service.js';
import { UserStoreService } from '../users/user-store.service.js';
import { AnnounceDto } from './dto/announce.dto.js';
import { DEFAULT_KICK_REASON, KickDto } from './dto/kick.dto.js';

/**
 * The admin and server API routes, for operators and the application's own backend. Thin:
 * the token guard, the body rules, then the chat service (which reaches every node).
 */
@Controller()
@UseGuards(AdminTokenGuard)
@UseFilters(HttpBodyFilter)
@UsePipes(HttpValidationPipe)
export class AdminController {
  constructor(
    private readonly users: UserStoreService,
    private readonly peers: PeerRegistryService,
    private readonly chat: ChatService,
  ) {}

  @Get('rooms')
  rooms() {
    return this.users.listRooms();
  }

  @Get('rooms/:room/users')
  async roomUsers(@Param('room') room: string) {
    const users = await this.users.listRoom(room);
    if (users.length === 0) throw new NotFoundException(`Room "${room}" has no users`);
    return users;
  }

  @Post('rooms/:room/notifications')
  @HttpCode(202)
  async announce(@Param('room') room: string, @Body() dto: AnnounceDto) {
    const members = await this.chat.announce(room, dto.title, dto.description);
    if (members === 0) throw new NotFoundException(`Room "${room}" has no users`);
    return { members };
  }

  @Delete('rooms/:room/users/:id')
  @HttpCode(204)
  async kick(@Param('room') room: string, @Param('id') id: string, @Body() dto: KickDto): Promise<void> {
    if (!(await this.chat.kick(room, id, dto.reason ?? DEFAULT_KICK_REASON))) {
      throw new NotFoundException(`"${id}" is not a member of room "${room}"`);
    }
  }

  @Get('connections')
  connections() {
    return this.peers.list();
  }
}
