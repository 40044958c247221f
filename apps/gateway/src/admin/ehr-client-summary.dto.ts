import { ApiProperty } from '@nestjs/swagger';
import type { EhrClientSummary } from '@app/clients';

/** A registered EHR client as shown to admins: no keys. */
export class EhrClientSummaryDto implements EhrClientSummary {
  @ApiProperty() readonly id!: string;
  @ApiProperty({ description: 'the `iss` of its JWTs' }) readonly issuer!: string;
  @ApiProperty() readonly tenant!: string;
  @ApiProperty({ type: [String], description: 'CDS service ids it may call; `*` for all' })
  readonly services!: ReadonlyArray<string>;
  @ApiProperty({ type: [String], description: 'FHIR base URLs cds-hooks may call back for it' })
  readonly fhirBaseUrls!: ReadonlyArray<string>;
  @ApiProperty({ enum: ['jwks-url', 'inline-jwks', 'jku-only', 'none'] })
  readonly keySource!: EhrClientSummary['keySource'];
  @ApiProperty({ type: String, nullable: true }) readonly jwksUrl!: string | null;
  @ApiProperty({ type: [String], description: 'kids of its inline public keys' }) readonly kids!: ReadonlyArray<string>;
  @ApiProperty({ type: [String] }) readonly allowedJku!: ReadonlyArray<string>;
  @ApiProperty({ nullable: true, description: '{ perSecond, burst }; null: the gateway default' })
  readonly rateLimit!: EhrClientSummary['rateLimit'];
}

export class EhrClientListDto {
  @ApiProperty({ type: [EhrClientSummaryDto] }) readonly clients!: ReadonlyArray<EhrClientSummary>;
}
