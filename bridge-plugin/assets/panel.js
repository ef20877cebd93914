/* Grow the SMS Campaigns iframe to its content (the pages post their height). */
(function () {
	'use strict';
	window.addEventListener( 'message', function ( event ) {
		if ( event.origin !== window.location.origin || ! event.data || ! event.data.bkntcSmsHeight ) {
			return;
		}
		var frame = document.getElementById( 'bkntc-sms-frame' );
		if ( frame ) {
			frame.style.height = ( event.data.bkntcSmsHeight + 20 ) + 'px';
		}
	} );
}() );
