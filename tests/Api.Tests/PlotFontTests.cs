using OxyPlot;
using SkiaSharp;
using Tuning.Api.Reports;

namespace Tuning.Api.Tests;

/// <summary>PNG plots draw CJK and emoji text in a font that has it, not as empty boxes (Debian's fonts-noto-cjk and fonts-noto-color-emoji).</summary>
public sealed class PlotFontTests
{
    [Theory]
    [InlineData("日本語")]
    [InlineData("中文")]
    [InlineData("한국어")]
    [InlineData("🚀")]
    public void A_text_the_plots_font_lacks_is_drawn_in_a_font_that_has_it(string text)
    {
        var family = FontFallbackContext.FamilyFor(text, null);
        Assert.NotNull(family);
        using var typeface = SKTypeface.FromFamilyName(family);
        Assert.All(text.EnumerateRunes(), rune => Assert.True(typeface.GetGlyph(rune.Value) != 0,
            $"{family} has no glyph for U+{rune.Value:X4}: apt-get install fonts-noto-cjk fonts-noto-color-emoji (.ci/run does)"));
        // Latin text keeps the plot's font.
        Assert.Equal("DejaVu Sans", FontFallbackContext.FamilyFor("adam", "DejaVu Sans"));
    }

    [Fact]
    public void A_png_with_cjk_and_emoji_text_draws_more_than_the_boxes_of_missing_glyphs()
    {
        // The same title drawn twice: once as it is, once as characters no font has (U+0378 is unassigned): with a
        // font that has the text, its pixels differ from the boxes.
        static byte[] Png(string text)
        {
            var model = new PlotModel { Background = OxyColors.White, Title = text, TitleFontSize = 40 };
            using var stream = new MemoryStream();
            Plots.WritePng(model, stream);
            return stream.ToArray();
        }
        var missing = Png("\u0378\u0378\u0378");
        Assert.NotEqual(missing, Png("日本語"));
        Assert.NotEqual(missing, Png("🚀🚀🚀"));
    }
}
