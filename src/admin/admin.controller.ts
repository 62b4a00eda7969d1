import { Controller, Get, NotFoundException, Param, UseGuards } from '@nestjs/common';
import { AdminTokenGuard } from '../common/guards/admin-token.guard.js';
import { PeerRegistryService } from '../compat/peers/peer-registry.service.js';
import { UserStoreService } from '../users/user-store.service.js';

@Controller()
@UseGuards(AdminTokenGuard)
export class AdminController {
  constructor(
    private readonly users: UserStoreService,
    private readonly peers: PeerRegistryService,
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

  @Get('connections')
  connections() {
    return this.peers.list();
  }
}
