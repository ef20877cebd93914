<?php
/**
 * Booknetic's cron: piggybacks on requests, at most once per 60 s.
 *
 * @package BookneticApp
 */

namespace BookneticApp\Providers\Core;

use BookneticApp\Providers\Helpers\Helper;

defined( 'ABSPATH' ) || exit;

/**
 * On a wp-cron.php request (DOING_CRON) the tasks run inline when the 60 s gate
 * (option bkntc_cron_job_runned_on) opens. The real core also dispatches a non-blocking
 * loopback for ordinary requests; the stand-in does not, so ordinary requests neither run
 * the tasks nor touch the gate. The response carries X-Bkntc-Cron: ran | throttled.
 */
class CronJob {

	const TIME_LIMIT = 60;

	/**
	 * Called on init, after the add-ons' init().
	 */
	public static function init() {
		if ( ! ( defined( 'DOING_CRON' ) && DOING_CRON ) ) {
			return;
		}
		if ( ! Helper::processRuntimeController( 'cron_job', self::TIME_LIMIT ) ) {
			self::header( 'throttled' );
			return;
		}
		self::header( 'ran' );
		self::runTasks();
	}

	/**
	 * Run the tasks (Booknetic also runs its reminders here).
	 */
	public static function runTasks() {
		do_action( 'bkntc_cronjob' );
	}

	/**
	 * Tell the caller what happened.
	 *
	 * @param string $value Outcome.
	 */
	private static function header( $value ) {
		if ( ! headers_sent() ) {
			header( 'X-Bkntc-Cron: ' . $value );
		}
	}
}
