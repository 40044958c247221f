import { Controller, Get } from '@nestjs/common';

/** Gateway probes: it holds no state, so live and ready are the same. */
@Controller('health')
export class GatewayHealthController {
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  ready(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
