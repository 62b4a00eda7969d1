import { Injectable } from '@nestjs/common';
import { ChatService } from '../chat/chat.service.js';
import { LoginDto } from '../chat/dto/login.dto.js';
import { ParleyError } from '../common/errors/parley.error.js';
import type { ErrorReply } from '../common/events.js';
import { WsValidationPipe } from '../common/pipes/ws-validation.pipe.js';
import type { ParleySocket } from '../common/realtime/parley-socket.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { handshakeCredentials, type HandshakeCredentials } from './handshake-login.js';
import { compatFault } from './compat-fault.js';

/**
 * Login at connect, for older chat clients: a handshake whose `auth` (else `query`) names a
 * room and a user is logged in exactly as by `login` (the same validation, and the chat
 * service's own join). A refusal is the `exception` event with event `login`.
 */
@Injectable()
export class HandshakeLoginService {
  /** Logins still running, so a `send-message` sent right after connect waits for its own. */
  private readonly pending = new WeakMap<ParleySocket, Promise<void>>();

  constructor(
    private readonly chat: ChatService,
    private readonly validation: WsValidationPipe,
    private readonly metrics: MetricsService,
  ) {}

  /** Starts the handshake login, when the handshake asks for one. */
  connected(client: ParleySocket): void {
    // A recovered session keeps its login.
    if (client.recovered || client.data.user) return;
    const credentials = handshakeCredentials(client.handshake);
    if (!credentials) return;
    const login = this.login(client, credentials).finally(() => this.pending.delete(client));
    this.pending.set(client, login);
  }

  /** Resolves once this socket's handshake login (if any) has finished, either way. */
  async settled(client: ParleySocket): Promise<void> {
    await this.pending.get(client);
  }

  /** Never rejects. */
  private async login(client: ParleySocket, credentials: HandshakeCredentials): Promise<void> {
    try {
      const dto = (await this.validation.transform(credentials, { type: 'body', metatype: LoginDto })) as LoginDto;
      await this.chat.join(client, dto);
    } catch (err) {
      const reply: ErrorReply = err instanceof ParleyError ? err.toReply() : compatFault('login', client.id, err);
      this.metrics.reject(reply.code);
      if (client.connected) client.emit('exception', { event: 'login', ...reply });
    }
  }
}
