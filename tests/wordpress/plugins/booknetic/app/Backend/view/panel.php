<?php
/**
 * The Booknetic panel: left menu + the module's output.
 *
 * @package BookneticApp
 *
 * @var \BookneticApp\Providers\UI\MenuUI[] $menu
 * @var \BookneticApp\Providers\UI\MenuUI[] $top_menu
 * @var string                              $module
 * @var string                              $content
 * @var int|null                            $tenant_id
 * @var bool                                $saas
 */

defined( 'ABSPATH' ) || exit;
?>
<div class="wrap">
<div id="booknetic_panel" class="bkntc-panel" data-module="<?php echo esc_attr( $module ); ?>" data-tenant-id="<?php echo esc_attr( (string) $tenant_id ); ?>" data-saas="<?php echo $saas ? '1' : '0'; ?>">
	<nav id="bkntc-left-menu" class="bkntc-left-menu">
		<div class="bkntc-logo">Booknetic</div>
		<ul>
		<?php foreach ( $menu as $item ) : ?>
			<li class="bkntc-menu-item<?php echo $item->getSlug() === $module ? ' active' : ''; ?>" data-module="<?php echo esc_attr( $item->getSlug() ); ?>">
				<a id="bkntc-menu-<?php echo esc_attr( $item->getSlug() ); ?>" href="<?php echo esc_url( $item->getLink() ); ?>">
					<i class="<?php echo esc_attr( $item->getIcon() ); ?>"></i>
					<span class="bkntc-menu-title"><?php echo esc_html( $item->getTitle() ); ?></span>
				</a>
				<?php if ( $item->getSubItems() ) : ?>
				<ul class="bkntc-sub-menu">
					<?php foreach ( $item->getSubItems() as $sub ) : ?>
					<li><a id="bkntc-menu-<?php echo esc_attr( $sub->getSlug() ); ?>" href="<?php echo esc_url( $sub->getLink() ); ?>"><?php echo esc_html( $sub->getTitle() ); ?></a></li>
					<?php endforeach; ?>
				</ul>
				<?php endif; ?>
			</li>
		<?php endforeach; ?>
		</ul>
	</nav>
	<div class="bkntc-body">
		<header id="bkntc-top-menu" class="bkntc-top-menu">
			<?php foreach ( $top_menu as $item ) : ?>
			<a id="bkntc-top-menu-<?php echo esc_attr( $item->getSlug() ); ?>" href="<?php echo esc_url( $item->getLink() ); ?>"><?php echo esc_html( $item->getTitle() ); ?></a>
			<?php endforeach; ?>
		</header>
		<main id="bkntc-main" class="bkntc-main" data-module="<?php echo esc_attr( $module ); ?>">
			<?php echo $content; // phpcs:ignore WordPress.Security.EscapeOutput -- the module's own HTML. ?>
		</main>
	</div>
</div>
</div>
