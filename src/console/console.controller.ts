import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { CONSOLE_PATH, consoleDir } from './console-assets';

/** /console without its slash: to the console, or why it is not there. */
@Controller()
export class ConsoleController {
  @Get(CONSOLE_PATH)
  open(@Res() res: Response): void {
    if (consoleDir()) {
      res.redirect(302, `${CONSOLE_PATH}/`);
      return;
    }
    res
      .status(503)
      .type('text/plain')
      .send(
        'The operator console is not built: run `npm run build` (or `npm run build:console`).\n',
      );
  }
}
