<?php
/**
 * Booknetic's panel menus.
 *
 * @package BookneticApp
 */

namespace BookneticApp\Providers\UI;

use BookneticApp\Providers\Helpers\Helper;

defined( 'ABSPATH' ) || exit;

/**
 * MenuUI::get('<slug>')->setTitle(..)->setIcon('fa fa-…')->setPriority(n). LEFT items are
 * the panel's left menu; each links admin.php?page=booknetic&module=<slug> unless setLink().
 */
class MenuUI {

	const MENU_TYPE_LEFT      = 'left';
	const MENU_TYPE_TOP_LEFT  = 'top_left';
	const MENU_TYPE_TOP_RIGHT = 'top_right';
	const MENU_TYPE_BOOSTORE  = 'boostore';

	/**
	 * Items, type => slug => item.
	 *
	 * @var array<string, array<string, MenuUI>>
	 */
	private static $items = array();

	/**
	 * Creation counter (stable order for equal priorities).
	 *
	 * @var int
	 */
	private static $counter = 0;

	/** @var string */
	private $slug;

	/** @var string */
	private $type;

	/** @var string */
	private $title = '';

	/** @var string */
	private $icon = '';

	/** @var int */
	private $priority = 90;

	/** @var string|null */
	private $link = null;

	/** @var int */
	private $order;

	/** @var array<string, MenuUI> */
	private $sub_items = array();

	/**
	 * Use get().
	 *
	 * @param string $slug Slug.
	 * @param string $type Menu type.
	 */
	private function __construct( $slug, $type ) {
		$this->slug  = $slug;
		$this->type  = $type;
		$this->order = self::$counter++;
	}

	/**
	 * The item with this slug (created on first use).
	 *
	 * @param string $slug Slug (the module it opens).
	 * @param string $type Menu type.
	 * @return MenuUI
	 */
	public static function get( $slug, $type = self::MENU_TYPE_LEFT ) {
		if ( ! isset( self::$items[ $type ][ $slug ] ) ) {
			self::$items[ $type ][ $slug ] = new self( $slug, $type );
		}
		return self::$items[ $type ][ $slug ];
	}

	/**
	 * Items of a menu, by priority.
	 *
	 * @param string $type Menu type.
	 * @return MenuUI[]
	 */
	public static function getItems( $type = self::MENU_TYPE_LEFT ) {
		$items = isset( self::$items[ $type ] ) ? array_values( self::$items[ $type ] ) : array();
		usort( $items, array( self::class, 'compare' ) );
		return $items;
	}

	/**
	 * Order by priority, then creation.
	 *
	 * @param MenuUI $a Item.
	 * @param MenuUI $b Item.
	 * @return int
	 */
	private static function compare( $a, $b ) {
		return array( $a->priority, $a->order ) <=> array( $b->priority, $b->order );
	}

	/**
	 * Set the label.
	 *
	 * @param string $title Label.
	 * @return $this
	 */
	public function setTitle( $title ) {
		$this->title = (string) $title;
		return $this;
	}

	/**
	 * Set the icon class.
	 *
	 * @param string $icon CSS classes.
	 * @return $this
	 */
	public function setIcon( $icon ) {
		$this->icon = (string) $icon;
		return $this;
	}

	/**
	 * Set the position (lower first).
	 *
	 * @param int $priority Priority.
	 * @return $this
	 */
	public function setPriority( $priority ) {
		$this->priority = (int) $priority;
		return $this;
	}

	/**
	 * Set a custom link.
	 *
	 * @param string $link URL.
	 * @return $this
	 */
	public function setLink( $link ) {
		$this->link = (string) $link;
		return $this;
	}

	/**
	 * A child item.
	 *
	 * @param string $slug Child slug (module).
	 * @return MenuUI
	 */
	public function subItem( $slug ) {
		if ( ! isset( $this->sub_items[ $slug ] ) ) {
			$this->sub_items[ $slug ] = new self( $slug, $this->type );
		}
		return $this->sub_items[ $slug ];
	}

	/**
	 * Children, by priority.
	 *
	 * @return MenuUI[]
	 */
	public function getSubItems() {
		$items = array_values( $this->sub_items );
		usort( $items, array( self::class, 'compare' ) );
		return $items;
	}

	/** @return string */
	public function getSlug() {
		return $this->slug;
	}

	/** @return string */
	public function getTitle() {
		return '' !== $this->title ? $this->title : $this->slug;
	}

	/** @return string */
	public function getIcon() {
		return $this->icon;
	}

	/** @return int */
	public function getPriority() {
		return $this->priority;
	}

	/** @return string */
	public function getLink() {
		if ( null !== $this->link ) {
			return $this->link;
		}
		return admin_url( 'admin.php?page=' . rawurlencode( Helper::getBackendSlug() ) . '&module=' . rawurlencode( $this->slug ) );
	}
}
