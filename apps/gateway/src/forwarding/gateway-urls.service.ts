import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';

/** Public URLs of the gateway's endpoints, as EHRs address them (the JWT `aud`). */
@Injectable()
export class GatewayUrls {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  /**
   * PUBLIC_BASE_URL + the path called, without query string: exactly the URL invoked (CDS Hooks 2.0.1 "Trusting
   * CDS Clients"), so a discovery URL typed with a trailing `/` is signed, and checked, with that slash.
   */
  audienceFor(req: Request): string {
    return `${this.config.PUBLIC_BASE_URL}${req.path}`;
  }
}
