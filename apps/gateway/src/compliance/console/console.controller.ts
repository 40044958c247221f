import { Controller, Get, Header, Redirect } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { CONSOLE_PAGE } from './assets/console-page';
import { CONSOLE_SCRIPT } from './assets/console-script';
import { CONSOLE_STYLE } from './assets/console-style';

/**
 * The compliance console: one static page, a script and a stylesheet, served without auth (they hold no data; every
 * call they make carries the staff token). Kept as TypeScript strings so `tsc` ships them in dist/ unchanged.
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

  @Get('console.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'no-cache')
  script(): string {
    return CONSOLE_SCRIPT;
  }

  @Get('console.css')
  @Header('content-type', 'text/css; charset=utf-8')
  @Header('cache-control', 'no-cache')
  style(): string {
    return CONSOLE_STYLE;
  }

  @Get('index.html')
  @Redirect('/console', 301)
  index(): void {}
}
