import { Module } from '@nestjs/common';
import { EdgeAuthModule } from '../auth/edge-auth.module';
import { CdsHooksUpstream } from './cds-hooks-upstream.service';
import { CdsServicesController } from './cds-services.controller';
import { JsonBodyReader } from './json-body-reader.service';

/** The public CDS Hooks surface, forwarded to cds-hooks once the caller is authenticated. */
@Module({
  imports: [EdgeAuthModule],
  controllers: [CdsServicesController],
  providers: [JsonBodyReader, CdsHooksUpstream],
})
export class ForwardingModule {}
