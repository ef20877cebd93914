<?php
/**
 * Booknetic's panel menus, with 5.2.2's AbstractMenuUI behaviour.
 *
 * @package BookneticApp
 */

namespace BookneticApp\Providers\UI;

use BookneticApp\Providers\Core\Backend;
use BookneticApp\Providers\Core\Route;

defined( 'ABSPATH' ) || exit;

/**
 * MenuUI::get('<slug>')->setTitle(..)->setIcon('fa fa-…')->setPriority(n). As in 5.2.2:
 * menu types are integers, setPriority() returns nothing (so it must come last in a chain),
 * an empty priority takes the next number after the highest seen, the link is the relative
 * admin.php?page=<slug>&module=<slug>, and the layout prints title and icon unescaped.
 */
class MenuUI {

	const MENU_TYPE_LEFT      = 1;
	const MENU_TYPE_TOP_RIGHT = 2;
	const MENU_TYPE_TOP_LEFT  = 3;
	const MENU_TYPE_BOOSTORE  = 4;

	/**
	 * Items, type => slug => item.
	 *
	 * @var array<int, array<string, MenuUI>>
	 */
	private static $items = array();

	/**
	 * Highest priority set so far.
	 *
	 * @var int
	 */
	private static $last_item_priority = 0;

	/** @var string */
	private $slug;

	/** @var string */
	private $link;

	/** @var string|null */
	private $title;

	/** @var string|null */
	private $icon;

	/** @var int|null */
	private $priority;

	/** @var array<string, MenuUI> */
	private $sub_items = array();

	/**
	 * An item for a module.
	 *
	 * @param string $slug Slug (the module it opens).
	 */
	public function __construct( $slug ) {
		$this->slug = $slug;
		$this->link = 'admin.php?page=' . Backend::getSlugName() . '&module=' . $this->slug;
	}

	/**
	 * The item with this slug (created on first use).
	 *
	 * @param string $slug Slug.
	 * @param int    $type Menu type.
	 * @return static
	 */
	public static function get( $slug, $type = self::MENU_TYPE_LEFT ) {
		if ( empty( self::$items[ $type ][ $slug ] ) ) {
			self::$items[ $type ][ $slug ] = new static( $slug );
		}
		return self::$items[ $type ][ $slug ];
	}

	/**
	 * Whether an item exists.
	 *
	 * @param string $slug Slug.
	 * @param int    $type Menu type.
	 * @return bool
	 */
	public static function isset( $slug, $type = self::MENU_TYPE_LEFT ): bool {
		return ! empty( self::$items[ $type ][ $slug ] );
	}

	/**
	 * Items of a menu, by priority.
	 *
	 * @param int $type Menu type.
	 * @return static[]
	 */
	public static function getItems( $type ) {
		$items = ! empty( self::$items[ $type ] ) ? array_values( self::$items[ $type ] ) : array();
		usort( $items, array( self::class, 'compare' ) );
		return $items;
	}

	/**
	 * Lower priority first.
	 *
	 * @param MenuUI $a Item.
	 * @param MenuUI $b Item.
	 * @return int
	 */
	private static function compare( $a, $b ) {
		return $a->getPriority() <=> $b->getPriority();
	}

	/**
	 * A child item.
	 *
	 * @param string $slug Child slug.
	 * @return static
	 */
	public function subItem( $slug ) {
		if ( empty( $this->sub_items[ $slug ] ) ) {
			$this->sub_items[ $slug ] = new static( $slug );
		}
		return $this->sub_items[ $slug ];
	}

	/**
	 * Set the label (printed as is).
	 *
	 * @param string $title Label.
	 * @return $this
	 */
	public function setTitle( $title ) {
		$this->title = $title;
		return $this;
	}

	/**
	 * Set a custom link.
	 *
	 * @param string $link URL.
	 * @return $this
	 */
	public function setLink( $link ) {
		$this->link = $link;
		return $this;
	}

	/**
	 * Set the icon classes (Font Awesome 5.15 in the real layout).
	 *
	 * @param string $icon CSS classes.
	 * @return $this
	 */
	public function setIcon( $icon ) {
		$this->icon = $icon;
		return $this;
	}

	/**
	 * Set the position. Returns nothing, as in 5.2.2.
	 *
	 * @param int $priority Priority.
	 */
	public function setPriority( $priority ) {
		$this->priority = (int) $priority;
		if ( $priority > self::$last_item_priority ) {
			self::$last_item_priority = (int) $priority;
		}
	}

	/**
	 * Children, by priority.
	 *
	 * @return static[]
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
	public function getLink() {
		return $this->link;
	}

	/** @return string|null */
	public function getTitle() {
		return $this->title;
	}

	/** @return string|null */
	public function getIcon() {
		return $this->icon;
	}

	/** @return int */
	public function getPriority() {
		if ( empty( $this->priority ) ) {
			$this->priority = ++self::$last_item_priority;
		}
		return $this->priority;
	}

	/** @return bool */
	public function isActive() {
		return Route::getCurrentModule() === $this->slug;
	}
}
