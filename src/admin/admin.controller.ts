import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ChatService } from '../chat/chat.service.js';
import { NotRetainedError } from '../common/errors/parley.error.js';
import { HttpBodyFilter } from '../common/filters/http-body.filter.js';
import { JsonBodyInterceptor } from '../common/http/json-body.interceptor.js';
import { AdminTokenGuard } from '../common/guards/admin-token.guard.js';
import { HttpValidationPipe } from '../common/pipes/http-validation.pipe.js';
import { PeerRegistryService } from '../compat/peers/peer-registry.service.js';
import { UserStoreService } from '../users/user-store.service.js';
import { AnnounceDto } from './dto/announce.dto.js';
import { DEFAULT_KICK_REASON, KickDto } from './dto/kick.dto.js';

const USER = {
  type: 'object',
  required: ['id', 'name', 'room', 'joinedAt'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    room: { type: 'string' },
    publicKey: { type: 'string' },
    joinedAt: { type: 'integer' },
  },
};
const VALIDATION = {
  description: 'A bad body: `{ error, code: "VALIDATION" }`',
  schema: {
    type: 'object',
    required: ['error', 'code'],
    properties: { error: { type: 'string' }, code: { type: 'string', enum: ['VALIDATION'] } },
  },
};

/**
 * The admin and server API routes, for operators and the application's own backend. Thin:
 * the token guard, the body rules, then the chat service (which reaches every node).
 */
@ApiTags('admin')
@ApiBearerAuth('admin')
@ApiUnauthorizedResponse({ description: 'No token, or a wrong one' })
@ApiNotFoundResponse({ description: 'ADMIN_TOKEN is unset (every route), or the room or member does not exist' })
@Controller()
@UseGuards(AdminTokenGuard)
@UseInterceptors(JsonBodyInterceptor)
@UseFilters(HttpBodyFilter)
@UsePipes(HttpValidationPipe)
export class AdminController {
  constructor(
    private readonly users: UserStoreService,
    private readonly peers: PeerRegistryService,
    private readonly chat: ChatService,
  ) {}

  @Get('rooms')
  @ApiOperation({ summary: 'Rooms with at least one member, and their member counts' })
  @ApiOkResponse({
    schema: {
      type: 'array',
      items: { type: 'object', properties: { room: { type: 'string' }, users: { type: 'integer' } } },
    },
  })
  rooms() {
    return this.users.listRooms();
  }

  @Get('rooms/:room/users')
  @ApiOperation({ summary: "A room's users, oldest first" })
  @ApiOkResponse({ schema: { type: 'array', items: USER } })
  async roomUsers(@Param('room') room: string) {
    const users = await this.users.listRoom(room);
    if (users.length === 0) throw new NotFoundException(`Room "${room}" has no users`);
    return users;
  }

  @Post('rooms/:room/notifications')
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Send a `notification { type: "server", title, description, at }` to every member of the room, on every node',
  })
  @ApiAcceptedResponse({
    schema: { type: 'object', required: ['members'], properties: { members: { type: 'integer' } } },
  })
  @ApiBadRequestResponse(VALIDATION)
  async announce(@Param('room') room: string, @Body() dto: AnnounceDto) {
    const members = await this.chat.announce(room, dto.title, dto.description);
    if (members === 0) throw new NotFoundException(`Room "${room}" has no users`);
    return { members };
  }

  @Delete('rooms/:room/users/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a member: it receives `kicked { room, reason }` and is logged out as by `logout`' })
  @ApiBody({ type: KickDto, required: false })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiBadRequestResponse(VALIDATION)
  async kick(@Param('room') room: string, @Param('id') id: string, @Body() dto: KickDto): Promise<void> {
    if (!(await this.chat.kick(room, id, dto.reason ?? DEFAULT_KICK_REASON))) {
      throw new NotFoundException(`"${id}" is not a member of room "${room}"`);
    }
  }

  @Delete('rooms/:room/messages/:offset')
  @HttpCode(204)
  @ApiOperation({
    summary:
      'Redact a retained message of the room’s current epoch, as `redact` does, with `by: "server"`: every member receives `redacted`',
  })
  @ApiNoContentResponse({ description: 'Redacted (or it already was)' })
  async redact(@Param('room') room: string, @Param('offset') offset: string): Promise<void> {
    const n = Number(offset);
    if (!/^[1-9]\d{0,15}$/.test(offset) || !Number.isSafeInteger(n))
      throw new NotFoundException(`No message ${offset} is retained in room "${room}"`);
    try {
      await this.chat.redact(room, undefined, n);
    } catch (err) {
      if (err instanceof NotRetainedError) throw new NotFoundException(`No message ${n} is retained in room "${room}"`);
      throw err;
    }
  }

  @Get('connections')
  @ApiOperation({ summary: "The peer channel's registered peers" })
  @ApiOkResponse({
    schema: {
      type: 'array',
      items: {
        type: 'object',
        properties: { socketId: { type: 'string' }, peerId: { type: 'string' }, peerType: { type: 'string' } },
      },
    },
  })
  connections() {
    return this.peers.list();
  }
}
