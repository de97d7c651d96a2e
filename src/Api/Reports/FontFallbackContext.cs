using System.Collections.Concurrent;
using OxyPlot;
using OxyPlot.SkiaSharp;
using SkiaSharp;

namespace Tuning.Api.Reports;

/// <summary>
/// OxyPlot's Skia renderer, but a text its font has no glyphs for (a category named in Japanese, an emoji) is drawn
/// in a font that has them, as a browser would: Skia takes the font it is given and draws empty boxes otherwise. The
/// font is chosen per text by the first character the plot's font lacks (fontconfig's match for it); which fonts
/// exist is the machine's (.ci/run installs fonts-noto-cjk and fonts-noto-color-emoji).
/// </summary>
/// <remarks>
/// Re-implements <see cref="IRenderContext"/> so that its text methods replace the base class's for OxyPlot, which
/// calls them through the interface; every other method stays the base class's.
/// </remarks>
public sealed class FontFallbackContext : SkiaRenderContext, IRenderContext
{
    private static readonly ConcurrentDictionary<string, SKTypeface> Typefaces = new();

    /// <summary>The family fontconfig matches for a character, by code point: a plot's texts draw on few.</summary>
    private static readonly ConcurrentDictionary<int, string?> Fallbacks = new();

    public new void DrawText(ScreenPoint p, string text, OxyColor fill, string? fontFamily, double fontSize, double fontWeight, double rotation,
        HorizontalAlignment horizontalAlignment, VerticalAlignment verticalAlignment, OxySize? maxSize) =>
        base.DrawText(p, text, fill, FamilyFor(text, fontFamily), fontSize, fontWeight, rotation, horizontalAlignment, verticalAlignment, maxSize);

    public new OxySize MeasureText(string text, string? fontFamily, double fontSize, double fontWeight) =>
        base.MeasureText(text, FamilyFor(text, fontFamily), fontSize, fontWeight);

    /// <summary><paramref name="family"/>, or where it lacks a character of <paramref name="text"/>, a family that has it.</summary>
    public static string? FamilyFor(string text, string? family)
    {
        if (System.Text.Ascii.IsValid(text)) return family;
        var typeface = Typefaces.GetOrAdd(family ?? "", name => SKTypeface.FromFamilyName(name) ?? SKTypeface.Default);
        foreach (var rune in text.EnumerateRunes())
            if (!System.Text.Rune.IsControl(rune) && typeface.GetGlyph(rune.Value) == 0)
                return Fallbacks.GetOrAdd(rune.Value, character => SKFontManager.Default.MatchCharacter(character)?.FamilyName) ?? family;
        return family;
    }

    /// <summary>As OxyPlot.SkiaSharp's PngExporter draws a plot, with this context.</summary>
    public static void WritePng(PlotModel model, Stream stream, int width, int height)
    {
        using var bitmap = new SKBitmap(width, height);
        using (var canvas = new SKCanvas(bitmap))
        using (var context = new FontFallbackContext { RenderTarget = RenderTarget.PixelGraphic, SkCanvas = canvas, UseTextShaping = true })
        {
            ((IPlotModel)model).Update(true);
            canvas.Clear(new SKColor(model.Background.R, model.Background.G, model.Background.B, model.Background.A));
            ((IPlotModel)model).Render(context, new OxyRect(0, 0, width, height));
        }
        using var output = new SKManagedWStream(stream);
        bitmap.Encode(output, SKEncodedImageFormat.Png, 100);
    }
}
