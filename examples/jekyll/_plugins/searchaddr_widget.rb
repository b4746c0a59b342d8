# Publishes widget/searchaddr.js and widget/searchaddr.css as /assets/searchaddr/*, so the
# example always serves the repository's current widget instead of a copy of it.
# A site of your own can simply copy the two files into assets/searchaddr/ instead.
module SearchAddr
  class WidgetFile < Jekyll::StaticFile
    def initialize(site, source_path)
      super(site, site.source, "assets/searchaddr", File.basename(source_path))
      @source_path = source_path
    end

    def path
      @source_path
    end
  end

  class WidgetGenerator < Jekyll::Generator
    def generate(site)
      widget_dir = File.expand_path(site.config.dig("searchaddr", "widget_dir") || "../../widget", site.source)
      %w[searchaddr.js searchaddr.css].each do |name|
        source_path = File.join(widget_dir, name)
        raise Jekyll::Errors::FatalException, "searchaddr widget not found: #{source_path}" unless File.file?(source_path)

        site.static_files << WidgetFile.new(site, source_path)
      end
    end
  end
end
