import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Controller, Get, Header, NotFoundException, Param, Redirect, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { CONSOLE_ADMIN_SCRIPT } from './assets/console-admin';
import { CONSOLE_AUDIT_SCRIPT } from './assets/console-audit';
import { CONSOLE_CARD_SCRIPT } from './assets/console-card';
import { CONSOLE_CORE_SCRIPT } from './assets/console-core';
import { CONSOLE_DASHBOARD_SCRIPT } from './assets/console-dashboard';
import { CONSOLE_PAGE } from './assets/console-page';
import { CONSOLE_STYLE } from './assets/console-style';

const SCRIPTS: Readonly<Record<string, string>> = {
  'core.js': CONSOLE_CORE_SCRIPT,
  'dashboard.js': CONSOLE_DASHBOARD_SCRIPT,
  'audit.js': CONSOLE_AUDIT_SCRIPT,
  'card.js': CONSOLE_CARD_SCRIPT,
  'admin.js': CONSOLE_ADMIN_SCRIPT,
};

let chartJs: string | undefined;

/** Chart.js's UMD build, from the installed package: served by the gateway itself, so the CSP stays `'self'`. */
function chartLibrary(): string {
  chartJs ??= readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
  return chartJs;
}

/**
 * The compliance and governance console: one static page, its scripts and stylesheet, and the chart library, served
 * without auth (they hold no data; every call they make rides on the signed-in session). Kept as TypeScript strings
 * so `tsc` ships them in dist/ unchanged.
 */
@ApiExcludeController()
@Controller('console')
export class ConsoleController {
  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-cache')
  page(): string {
    return CONSOLE_PAGE;
  }

  @Get('console.css')
  @Header('content-type', 'text/css; charset=utf-8')
  @Header('cache-control', 'no-cache')
  style(): string {
    return CONSOLE_STYLE;
  }

  @Get('vendor/chart.umd.min.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'public, max-age=86400')
  chart(): string {
    return chartLibrary();
  }

  @Get('index.html')
  @Redirect('/console', 301)
  index(): void {}

  @Get(':script')
  script(@Param('script') name: string, @Res() res: Response): void {
    const body = SCRIPTS[name];
    if (body === undefined) throw new NotFoundException();
    res.setHeader('content-type', 'text/javascript; charset=utf-8');
    res.setHeader('cache-control', 'no-cache');
    res.send(body);
  }
}
